"""What a card payment's money movements leave behind: a journal entry, an outbox event and an evidence entry.

Called by the service exactly once per amount newly received or refunded, inside the same transaction. The
journal's unique ``(kind, reference)`` is a second guard: the reference names the PaymentIntent and the
cumulative amount received (which only grows), or Stripe's refund id. A payment of an invoice is filed under
the invoice's prefix (``invoice:<id>``), so the invoice's outstanding amount and statements include it.
"""

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement import journal, payee
from commerce.settlement.journal import AccountKind, Line
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


def _reference(payment: StripePayment, suffix: str) -> str:
    prefix = f"invoice:{payment.invoice_id}:" if payment.invoice_id else ""
    return f"{prefix}stripe:{suffix}"


async def _card_payment_lines(session: AsyncSession, payment: StripePayment, amount: Decimal) -> list[Line]:
    """The buyer's bank pays its payable; the payee's receivable turns into money in its bank. The payee is the
    supplier, or the financier the invoice's receivable was assigned to (the payment is redirected to it)."""
    buyer = payment.org_id
    paid_to = payment.supplier_org_id if payment.invoice_id is None else \
        await payee.payee_of(session, invoice_id=payment.invoice_id, supplier_org_id=payment.supplier_org_id)
    return [Line.dr(buyer, AccountKind.PAYABLE, amount), Line.cr(buyer, AccountKind.BANK, amount),
            Line.dr(paid_to, AccountKind.BANK, amount), Line.cr(paid_to, AccountKind.RECEIVABLE, amount)]


def _mirrored(lines: list[Line]) -> list[Line]:
    return [Line(line.org_id, line.account, debit=line.credit, credit=line.debit) for line in lines]


async def record_received(session: AsyncSession, payment: StripePayment, amount: Decimal) -> None:
    """The buyer's card was charged ``amount`` for the supplier (``payment.amount_received`` already includes it)."""
    await journal.post_entry(session, currency=payment.currency, kind="payment.stripe",
                             reference=_reference(payment, f"{payment.payment_intent_id}:{payment.amount_received}"),
                             lines=await _card_payment_lines(session, payment, amount), posted_by_org_id=payment.org_id,
                             memo=payment.reference)
    await _record(session, payment, "payment.received", _facts(payment, amount))


async def record_refunded(session: AsyncSession, payment: StripePayment, refund: StripeRefund) -> None:
    """``refund.amount`` went back to the buyer's card: the mirror of a payment."""
    await journal.post_entry(session, currency=payment.currency, kind="refund.stripe",
                             reference=_reference(payment, refund.refund_id),
                             lines=_mirrored(await _card_payment_lines(session, payment, refund.amount)),
                             posted_by_org_id=payment.org_id, memo=payment.reference)
    facts = _facts(payment, refund.amount) | {"refund_id": refund.refund_id}
    await _record(session, payment, "payment.refunded", facts)
