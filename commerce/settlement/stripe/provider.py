"""Stripe behind the settlement package's ``PaymentProvider`` interface (registered as ``stripe``).

The card-payment API (``commerce.settlement.stripe.api``) is the full flow with its own bookkeeping; this adapter
lets generic settlement code drive a PaymentIntent by reference like any other method.
"""

from decimal import Decimal

from commerce.settlement.providers import PaymentRequest, PaymentStatus, ProviderResult
from commerce.settlement.stripe.gateway import IntentState, StripeGateway

_STATUS = {
    "requires_payment_method": PaymentStatus.REQUIRES_ACTION, "requires_confirmation": PaymentStatus.REQUIRES_ACTION,
    "requires_action": PaymentStatus.REQUIRES_ACTION, "processing": PaymentStatus.PENDING,
    "requires_capture": PaymentStatus.AUTHORIZED, "succeeded": PaymentStatus.SUCCEEDED,
    "canceled": PaymentStatus.CANCELLED,
}


def _result(intent: IntentState, amount: Decimal) -> ProviderResult:
    return ProviderResult(provider_ref=intent.intent_id, status=_STATUS.get(intent.status, PaymentStatus.PENDING),
                          amount=amount, currency=intent.currency)


class StripeProvider:
    """PaymentIntents with manual capture: create → confirm (the card given in ``metadata['payment_method']``)
    → capture; refunds by Stripe refund."""

    name = "stripe"

    def __init__(self, gateway: StripeGateway) -> None:
        self.gateway = gateway

    async def create(self, request: PaymentRequest) -> ProviderResult:
        intent = await self.gateway.create_intent(
            payment_key=request.idempotency_key, amount=request.amount, currency=request.currency,
            capture_method="manual", description=request.reference,
            payment_method=request.metadata.get("payment_method"),
            metadata={"tradeloom_payment_id": str(request.payment_id), "tradeloom_org_id": str(request.payer_org_id),
                      **request.metadata})
        return _result(intent, request.amount)

    async def confirm(self, provider_ref: str) -> ProviderResult:
        intent = await self.gateway.confirm(provider_ref)
        return _result(intent, intent.amount_received)

    async def capture(self, provider_ref: str, amount: Decimal | None = None) -> ProviderResult:
        currency = (await self.gateway.retrieve(provider_ref)).currency if amount is not None else ""
        intent = await self.gateway.capture(provider_ref, amount=amount, currency=currency)
        return _result(intent, intent.amount_received)

    async def refund(self, provider_ref: str, amount: Decimal, *, idempotency_key: str) -> ProviderResult:
        currency = (await self.gateway.retrieve(provider_ref)).currency
        refund = await self.gateway.refund(provider_ref, refund_key=idempotency_key, amount=amount,
                                           currency=currency, metadata={})
        return ProviderResult(provider_ref=refund.refund_id, status=PaymentStatus.REFUNDED, amount=refund.amount,
                              currency=currency)
