"""Card payments: create, confirm, capture and refund PaymentIntents, and apply what Stripe reports.

Stripe's word about a payment reaches us three ways: the answer to our own call, a webhook, and the
reconciliation job. All three go through ``apply_intent``/``apply_refund``, which lock the payment row and post
only what has not been posted yet (amounts received and refunded only grow; a status never moves back), so a
duplicate, late or out-of-order report changes nothing, and a crash between Stripe's success and our commit
is closed by whichever report comes next.
"""

import uuid
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement.milestone_models import PaymentRequest
from commerce.settlement.stripe import posting
from commerce.settlement.stripe.gateway import IntentState, RefundState, StripeGateway, StripeRefused
from commerce.settlement.stripe.models import StripePayment, StripeRefund
from tradeloom.audit import Actor, record_audit
from tradeloom.errors import Conflict, Forbidden, Invalid, NotFound

# Stripe's PaymentIntent statuses in the order a payment moves through them; canceled and succeeded are final.
STATUS_RANK = {status: rank for rank, status in enumerate((
    "created", "requires_payment_method", "requires_confirmation", "requires_action", "processing",
    "requires_capture", "canceled", "succeeded",
))}
OPEN_STATUSES = ("created", "requires_confirmation", "requires_action", "processing", "requires_capture")
CAPTURE_METHODS = ("automatic", "manual")


async def create_payment(
    session: AsyncSession, gateway: StripeGateway, *, actor: Actor, supplier_org_id: uuid.UUID, amount: Decimal,
    currency: str, reference: str, capture_method: str = "automatic", invoice_id: uuid.UUID | None = None,
    payment_request_id: uuid.UUID | None = None,
) -> StripePayment:
    """Open a PaymentIntent for the buyer's payment to a supplier (of an invoice, or of a milestone's payment
    request); it waits for a card."""
    if payment_request_id is not None:
        await _check_request(session, actor=actor, request_id=payment_request_id, supplier_org_id=supplier_org_id,
                             currency=currency, invoice_id=invoice_id)
    if supplier_org_id == actor.org_id:
        raise Invalid("An organization cannot pay itself.", code="payment_to_self")
    if capture_method not in CAPTURE_METHODS:
        raise Invalid(f"capture_method must be one of {', '.join(CAPTURE_METHODS)}.", code="capture_method_invalid")
    payment = StripePayment(org_id=actor.org_id, supplier_org_id=supplier_org_id, amount=amount, currency=currency,
                            reference=reference, invoice_id=invoice_id, capture_method=capture_method,
                            payment_request_id=payment_request_id,
                            status="created")
    session.add(payment)
    await session.flush()
    intent = await gateway.create_intent(
        payment_key=f"tl-payment-{payment.id}", amount=amount, currency=currency, capture_method=capture_method,
        description=reference, metadata={"tradeloom_payment_id": str(payment.id),
                                         "tradeloom_org_id": str(actor.org_id)},
    )
    payment.payment_intent_id = intent.intent_id
    await apply_intent(session, payment, intent)
    await record_audit(session, actor=actor, action="stripe_payment.created", object_type="stripe_payment",
                       object_id=str(payment.id))
    return payment


async def _check_request(session: AsyncSession, *, actor: Actor, request_id: uuid.UUID, supplier_org_id: uuid.UUID,
                         currency: str, invoice_id: uuid.UUID | None) -> None:
    """A card pays a milestone request of the caller's own order, to that order's supplier, in its currency."""
    request = await session.get(PaymentRequest, request_id)
    if request is None or request.buyer_org_id != actor.org_id:
        raise NotFound("No such payment request of yours.", code="payment_request_not_found")
    if invoice_id is not None or request.supplier_org_id != supplier_org_id or request.currency != currency:
        raise Invalid("A payment request is paid to its order's supplier, in its currency, without an invoice.",
                      code="payment_request_mismatch")


async def confirm_payment(session: AsyncSession, gateway: StripeGateway, *, actor: Actor, payment_id: uuid.UUID,
                          payment_method: str) -> StripePayment:
    """Pay with a card (a Stripe PaymentMethod id); a decline is kept on the payment (``last_error``) to retry."""
    payment = await _own_payment(session, actor, payment_id)
    intent_id = _intent_id(payment)
    try:
        intent = await gateway.confirm(intent_id, payment_method=payment_method)
    except StripeRefused:
        intent = await gateway.retrieve(intent_id)
    return await apply_intent(session, payment, intent)


async def capture_payment(session: AsyncSession, gateway: StripeGateway, *, actor: Actor,
                          payment_id: uuid.UUID) -> StripePayment:
    """Capture an authorised (manual-capture) payment."""
    payment = await _own_payment(session, actor, payment_id)
    return await apply_intent(session, payment, await gateway.capture(_intent_id(payment)))


async def refund_payment(session: AsyncSession, gateway: StripeGateway, *, actor: Actor, payment_id: uuid.UUID,
                         amount: Decimal, refund_key: str, reason: str | None = None) -> StripeRefund:
    """Refund part or all of what was received; ``refund_key`` makes a retried request refund once."""
    payment = await _own_payment(session, actor, payment_id)
    if amount > payment.amount_received - payment.amount_refunded:
        raise Conflict(f"At most {payment.amount_received - payment.amount_refunded} {payment.currency} can be "
                       f"refunded.", code="refund_exceeds_received")
    refund = await gateway.refund(_intent_id(payment), refund_key=f"tl-refund-{payment.id}-{refund_key}",
                                  amount=amount, currency=payment.currency,
                                  metadata={"tradeloom_payment_id": str(payment.id),
                                            "tradeloom_org_id": str(payment.org_id)})
    stored = await apply_refund(session, payment, refund, reason=reason)
    await record_audit(session, actor=actor, action="stripe_payment.refunded", object_type="stripe_payment",
                       object_id=str(payment.id))
    return stored


async def apply_intent(session: AsyncSession, payment: StripePayment, intent: IntentState) -> StripePayment:
    """Bring the payment up to what Stripe reports, posting any newly received amount exactly once."""
    payment = await _locked(session, payment.id)
    if STATUS_RANK.get(intent.status, 0) > STATUS_RANK[payment.status]:
        payment.status = intent.status
    if intent.error_message and payment.status == "requires_payment_method":
        payment.last_error = intent.error_message[:500]
    newly_received = intent.amount_received - payment.amount_received
    if newly_received > 0:
        payment.amount_received = intent.amount_received
        await session.flush()
        await posting.record_received(session, payment, newly_received)
    await session.flush()
    return payment


async def apply_refund(session: AsyncSession, payment: StripePayment, refund: RefundState,
                       reason: str | None = None) -> StripeRefund:
    """Store a refund Stripe made (once, by its id) and post it; a repeated report returns the stored one."""
    payment = await _locked(session, payment.id)
    inserted = await _insert_refund(session, payment, refund, reason)
    stored = await session.scalar(select(StripeRefund).where(StripeRefund.refund_id == refund.refund_id))
    assert stored is not None
    if inserted:
        payment.amount_refunded += refund.amount
        await session.flush()
        await posting.record_refunded(session, payment, stored)
    return stored


async def _insert_refund(session: AsyncSession, payment: StripePayment, refund: RefundState,
                         reason: str | None) -> bool:
    refund_row_id = await session.scalar(
        insert(StripeRefund).values(
            id=uuid.uuid4(), org_id=payment.org_id, payment_id=payment.id, supplier_org_id=payment.supplier_org_id,
            refund_id=refund.refund_id, amount=refund.amount, reason=reason or refund.reason,
        ).on_conflict_do_nothing(index_elements=["refund_id"]).returning(StripeRefund.id)
    )
    return refund_row_id is not None


async def get_payment(session: AsyncSession, payment_id: uuid.UUID) -> StripePayment:
    """A payment the caller's organization pays or is paid by (row-level security hides the others)."""
    payment = await session.get(StripePayment, payment_id)
    if payment is None:
        raise NotFound("No such card payment.", code="stripe_payment_not_found")
    return payment


async def payment_by_intent(session: AsyncSession, intent_id: str) -> StripePayment | None:
    return await session.scalar(select(StripePayment).where(StripePayment.payment_intent_id == intent_id))


async def list_payments(session: AsyncSession) -> list[StripePayment]:
    """The card payments the caller's organization made or received, newest first."""
    return list(await session.scalars(select(StripePayment).order_by(StripePayment.created_at.desc()).limit(200)))


async def _own_payment(session: AsyncSession, actor: Actor, payment_id: uuid.UUID) -> StripePayment:
    payment = await get_payment(session, payment_id)
    if payment.org_id != actor.org_id:
        raise Forbidden("Only the paying organization can act on this payment.", code="stripe_payment_not_payer")
    return payment


def _intent_id(payment: StripePayment) -> str:
    if payment.payment_intent_id is None:
        raise Conflict("The payment has no PaymentIntent yet.", code="stripe_intent_missing")
    return payment.payment_intent_id


async def _locked(session: AsyncSession, payment_id: uuid.UUID) -> StripePayment:
    """The payment row locked for this transaction, so concurrent reports post one after the other
    (pending changes are flushed first: the reload must not discard them)."""
    await session.flush()
    payment = await session.scalar(
        select(StripePayment).where(StripePayment.id == payment_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    assert payment is not None
    return payment
