"""What a card payment's money movements leave behind: a journal entry, an outbox event and an evidence entry.

Called by the service exactly once per amount newly received or refunded, inside the same transaction. The
journal's unique ``(kind, reference)`` is a second guard: the reference names the PaymentIntent and the
cumulative amount received (which only grows), or Stripe's refund id. A payment of an invoice is filed under
the invoice's prefix (``invoice:<id>``), so the invoice's outstanding amount and statements include it.
"""

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement import advances, journal, payee
from commerce.settlement.journal import AccountKind, Line
from commerce.settlement.milestone_models import PaymentRequest
from commerce.settlement.stripe.models import StripePayment, StripeRefund
from ledger.service import record_evidence
from tradeloom.outbox.service import emit


def _facts(payment: StripePayment, amount: Decimal) -> dict[str, Any]:
    return {"payment_id": str(payment.id), "payment_intent_id": payment.payment_intent_id,
            "buyer_org_id": str(payment.org_id), "supplier_org_id": str(payment.supplier_org_id),
            "invoice_id": str(payment.invoice_id) if payment.invoice_id else None, "reference": payment.reference,
            "payment_request_id": str(payment.payment_request_id) if payment.payment_request_id else None,
            "amount": str(amount), "currency": payment.currency, "provider": "stripe"}


async def _record(session: AsyncSession, payment: StripePayment, topic: str, facts: dict[str, Any]) -> None:
    await emit(session, org_id=payment.org_id, topic=topic, payload=facts)
    await record_evidence(session, org_id=payment.org_id, kind=topic, subject=f"stripe-payment:{payment.id}",
                          payload=facts)


async def _request(session: AsyncSession, payment: StripePayment) -> PaymentRequest | None:
    if payment.payment_request_id is None:
        return None
    return await session.get_one(PaymentRequest, payment.payment_request_id)


def _reference(payment: StripePayment, request: PaymentRequest | None, suffix: str) -> str:
    prefix = f"{advances.request_prefix(request)}:" if request is not None else \
        f"invoice:{payment.invoice_id}:" if payment.invoice_id else ""
    return f"{prefix}stripe:{suffix}"


async def _card_payment_lines(session: AsyncSession, payment: StripePayment, request: PaymentRequest | None,
                              amount: Decimal) -> list[Line]:
    """The buyer's bank pays its payable; the payee's receivable turns into money in its bank. The payee is the
    supplier, or the financier the invoice's receivable was assigned to (the payment is redirected to it). A
    milestone request's payment is an advance (buyer's prepaid, supplier's received in advance) instead."""
    if request is not None:
        return advances.advance_lines(request, amount)
    buyer = payment.org_id
    paid_to = payment.supplier_org_id if payment.invoice_id is None else \
        await payee.payee_of(session, invoice_id=payment.invoice_id, supplier_org_id=payment.supplier_org_id)
    return [Line.dr(buyer, AccountKind.PAYABLE, amount), Line.cr(buyer, AccountKind.BANK, amount),
            Line.dr(paid_to, AccountKind.BANK, amount), Line.cr(paid_to, AccountKind.RECEIVABLE, amount)]


async def _count(session: AsyncSession, payment: StripePayment, amount: Decimal, via: str) -> None:
    """What the money (negative: a refund) counts for: the milestone request it pays, or the financier."""
    if payment.payment_request_id is not None:
        await advances.count_request_payment(session, request_id=payment.payment_request_id, amount=amount,
                                             viewer_org_id=payment.org_id)
    elif payment.invoice_id is not None:
        await payee.count_payment(session, by_org_id=payment.org_id, invoice_id=payment.invoice_id, amount=amount,
                                  via=via)


def _mirrored(lines: list[Line]) -> list[Line]:
    return [Line(line.org_id, line.account, debit=line.credit, credit=line.debit) for line in lines]


async def record_received(session: AsyncSession, payment: StripePayment, amount: Decimal) -> None:
    """The buyer's card was charged ``amount`` for the supplier (``payment.amount_received`` already includes it)."""
    request = await _request(session, payment)
    suffix = f"{payment.payment_intent_id}:{payment.amount_received}"
    await journal.post_entry(session, currency=payment.currency, kind="payment.stripe",
                             reference=_reference(payment, request, suffix),
                             lines=await _card_payment_lines(session, payment, request, amount),
                             posted_by_org_id=payment.org_id, memo=payment.reference)
    await _record(session, payment, "payment.received", _facts(payment, amount))
    await _count(session, payment, amount, "stripe")


async def record_refunded(session: AsyncSession, payment: StripePayment, refund: StripeRefund) -> None:
    """``refund.amount`` went back to the buyer's card: the mirror of a payment."""
    request = await _request(session, payment)
    await journal.post_entry(session, currency=payment.currency, kind="refund.stripe",
                             reference=_reference(payment, request, refund.refund_id),
                             lines=_mirrored(await _card_payment_lines(session, payment, request, refund.amount)),
                             posted_by_org_id=payment.org_id, memo=payment.reference)
    facts = _facts(payment, refund.amount) | {"refund_id": refund.refund_id}
    await _record(session, payment, "payment.refunded", facts)
    await _count(session, payment, -refund.amount, "stripe_refund")  # the money counts no more
