"""Payment terms enforced: milestone payment requests and the prepayment gate.

When an order reaches a milestone its terms put a share on (``order.confirmed`` ⇒ prepayment,
``shipment.dispatched`` ⇒ on shipment, ``goods.received`` ⇒ on receipt), a payment request is opened: the
share's amount (half-up to the cent), due that day, with its own payment reference. One per order and milestone,
so redelivered events open nothing more. Requests are paid by bank transfer quoting the reference (statement
reconciliation, ``payments.record_request_payment``); escrow deposits count towards the prepayment too.

``PrepaymentGate`` is installed into ``commerce.payment_port`` by the composition root: the supplier cannot ship
(nor start production when the terms say "before production") until the prepayment is paid.
"""

import datetime as dt
import secrets
import uuid
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.orders.service.queries import order_detail
from commerce.payment_port import OrderFacts
from commerce.settlement.invoice_models import Payment
from commerce.settlement.invoices import PAYMENT_REFERENCE_ALPHABET
from commerce.settlement.milestone_models import PaymentRequest
from commerce.settlement.providers import PLATFORM_COLLECTION_ACCOUNT
from commerce.settlement.rules import CENTS, Milestone, milestone_share, prepayment_gates, share_amount
from ledger.service import record_evidence
from tradeloom.audit import Actor, record_audit
from tradeloom.errors import Conflict
from tradeloom.outbox.service import emit

MILESTONE_TOPICS = {"order.confirmed": Milestone.CONFIRMATION, "shipment.dispatched": Milestone.SHIPMENT,
                    "goods.received": Milestone.RECEIPT}


def _reference() -> str:
    return "TL" + "".join(secrets.choice(PAYMENT_REFERENCE_ALPHABET) for _ in range(10))


def request_facts(request: PaymentRequest) -> dict[str, str]:
    return {"payment_request_id": str(request.id), "order_id": str(request.order_id),
            "order_number": request.order_number, "milestone": request.milestone, "amount": f"{request.amount:f}",
            "currency": request.currency, "due_date": request.due_date.isoformat(),
            "payment_reference": request.payment_reference, "buyer_org_id": str(request.buyer_org_id),
            "supplier_org_id": str(request.supplier_org_id)}


async def open_request(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, milestone: Milestone,
                       today: dt.date) -> PaymentRequest | None:
    """Open the milestone's payment request if the order's terms put a share on it (None: no share, or it was
    opened before)."""
    order = (await order_detail(session, order_id=order_id)).order
    percent = milestone_share(order.payment_terms, milestone)
    if percent <= 0:
        return None
    request_id = await session.scalar(pg_insert(PaymentRequest).values(
        id=uuid.uuid4(), order_id=order.id, order_number=order.number, buyer_org_id=order.buyer_org_id,
        supplier_org_id=order.supplier_org_id, milestone=milestone.value, percent=percent,
        amount=share_amount(order.gross_total, percent), currency=order.currency, due_date=today,
        payment_reference=_reference(), paid_amount=0, applied_amount=0, status="open",
    ).on_conflict_do_nothing(index_elements=["order_id", "milestone"]).returning(PaymentRequest.id))
    if request_id is None:
        return None
    request = await session.get_one(PaymentRequest, request_id)
    facts = request_facts(request)
    await emit(session, org_id=actor.org_id, topic="payment_request.opened", payload=facts)
    await record_audit(session, actor=actor, action="payment_request.opened", object_type="payment_request",
                       object_id=request.id)
    await record_evidence(session, org_id=actor.org_id, kind="payment_request.opened",
                          subject=f"order:{order.id}", payload=facts)
    return request


def transfer_instructions(request: PaymentRequest) -> dict[str, str]:
    """How the buyer pays the request by bank transfer: the collection account and the reference to quote."""
    account = PLATFORM_COLLECTION_ACCOUNT
    return {"account_name": account.account_name, "bank_name": account.bank_name,
            "account_number": account.account_number, "reference": request.payment_reference,
            "amount": f"{request.amount - request.paid_amount:f}", "currency": request.currency}


async def list_requests(session: AsyncSession, *, order_id: uuid.UUID | None = None,
                        status: str | None = None) -> list[PaymentRequest]:
    """The caller's requests (as buyer or supplier), by due date."""
    query = select(PaymentRequest).order_by(PaymentRequest.due_date, PaymentRequest.created_at).limit(500)
    if order_id is not None:
        query = query.where(PaymentRequest.order_id == order_id)
    if status is not None:
        query = query.where(PaymentRequest.status == status)
    return list(await session.scalars(query))


async def prepaid(session: AsyncSession, *, order_id: uuid.UUID) -> Decimal:
    """What the buyer has paid towards the prepayment: the confirmation request's payments and escrow deposits."""
    on_request = await session.scalar(select(PaymentRequest.paid_amount).where(
        PaymentRequest.order_id == order_id, PaymentRequest.milestone == Milestone.CONFIRMATION.value))
    in_escrow = await session.scalar(select(func.coalesce(func.sum(Payment.amount), 0)).where(
        Payment.order_id == order_id, Payment.method == "escrow", Payment.kind == "escrow_deposit"))
    return Decimal(on_request or 0) + Decimal(in_escrow or 0)


class PrepaymentGate:
    """Refuses shipping (and production, when the terms say so) before the prepayment is paid: 409
    ``prepayment_outstanding`` naming what is missing."""

    async def check_step(self, session: AsyncSession, *, order: OrderFacts, action: str) -> None:
        percent = milestone_share(order.payment_terms, Milestone.CONFIRMATION)
        if percent <= 0 or not prepayment_gates(order.payment_terms, action):
            return
        required = share_amount(order.gross_total, percent)
        missing = (required - await prepaid(session, order_id=order.id)).quantize(CENTS)
        if missing > 0:
            raise Conflict(
                f"Order {order.number} needs its prepayment of {required:f} {order.currency} "
                f"({percent.normalize():f} %) before this step; {missing:f} {order.currency} is still to be paid.",
                code="prepayment_outstanding")


async def mark_overdue(session: AsyncSession, *, today: dt.date) -> list[PaymentRequest]:
    """Open requests past their due date, not marked before (the overdue loop announces each once)."""
    marked = await session.scalars(update(PaymentRequest).where(
        PaymentRequest.status == "open", PaymentRequest.due_date < today, PaymentRequest.overdue_since.is_(None))
        .values(overdue_since=today).returning(PaymentRequest))
    return list(marked.all())
