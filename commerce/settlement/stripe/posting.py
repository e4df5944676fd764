"""What a card payment's money movements leave behind: an outbox event and an evidence entry (and journal postings).

Called by the service exactly once per amount newly received or refunded, inside the same transaction.
"""

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement.stripe.models import StripePayment, StripeRefund
from ledger.service import record_evidence
from tradeloom.outbox.service import emit


def _facts(payment: StripePayment, amount: Decimal) -> dict[str, Any]:
    return {"payment_id": str(payment.id), "payment_intent_id": payment.payment_intent_id,
            "buyer_org_id": str(payment.org_id), "supplier_org_id": str(payment.supplier_org_id),
            "invoice_id": str(payment.invoice_id) if payment.invoice_id else None, "reference": payment.reference,
            "amount": str(amount), "currency": payment.currency, "provider": "stripe"}


async def _record(session: AsyncSession, payment: StripePayment, topic: str, facts: dict[str, Any]) -> None:
    await emit(session, org_id=payment.org_id, topic=topic, payload=facts)
    await record_evidence(session, org_id=payment.org_id, kind=topic, subject=f"stripe-payment:{payment.id}",
                          payload=facts)


async def record_received(session: AsyncSession, payment: StripePayment, amount: Decimal) -> None:
    """The buyer's card was charged ``amount`` for the supplier."""
    await _record(session, payment, "payment.received", _facts(payment, amount))


async def record_refunded(session: AsyncSession, payment: StripePayment, refund: StripeRefund) -> None:
    """``refund.amount`` went back to the buyer's card."""
    facts = _facts(payment, refund.amount) | {"refund_id": refund.refund_id}
    await _record(session, payment, "payment.refunded", facts)
