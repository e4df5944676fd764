"""Card payments through Stripe PaymentIntents (create, confirm, capture, refund) and Stripe's webhooks."""
