"""Webhooks out: subscriptions, signed deliveries with retries, delivery log, replay, SSRF guard."""
