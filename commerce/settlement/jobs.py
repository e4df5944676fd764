"""RQ entry points: escrow follows the goods and the invoices. A goods receipt, and an invoice issued or
approved, release what the received goods are worth (as payments of the order's approved invoices); a
cancelled order gets back what is still held. Both are idempotent (the amounts are derived from what was
deposited, released and refunded before, so a redelivered event releases or refunds nothing more)."""

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement import milestones, payments
from tradeloom.audit import Actor
from tradeloom.db import make_engine, make_sessionmaker, tenant_transaction
from tradeloom.jobs import require_url
from tradeloom.outbox.subscriptions import subscribe
from tradeloom.settings import get_settings

GOODS_RECEIVED = "goods.received"  # published by commerce.logistics with the receipt's order_id
ORDER_CANCELLED = "order.cancelled"
INVOICE_TOPICS = ("invoice.issued", "invoice.approved")  # commerce.settlement.invoices, payload has invoice_id

EscrowStep = Callable[..., Awaitable[object]]


def subscribe_jobs() -> None:
    subscribe(GOODS_RECEIVED, "commerce.settlement.jobs.release_on_receipt")
    subscribe(ORDER_CANCELLED, "commerce.settlement.jobs.refund_on_cancellation")
    for topic in INVOICE_TOPICS:
        subscribe(topic, "commerce.settlement.jobs.release_on_invoice")
    for topic in milestones.MILESTONE_TOPICS:
        subscribe(topic, "commerce.settlement.jobs.open_payment_request")


def open_payment_request(event: dict[str, Any]) -> None:
    """The order reached a milestone: open its payment request if the terms put a share on it (idempotent)."""
    asyncio.run(_with_sessionmaker(lambda sessionmaker: run_open_request(sessionmaker, event)))


async def run_open_request(sessionmaker: Callable[[], AsyncSession], event: dict[str, Any],
                           today: dt.date | None = None) -> None:
    """One transaction as the event's organization (the party whose step reached the milestone)."""
    org_id = uuid.UUID(str(event["org_id"]))
    async with tenant_transaction(sessionmaker, org_id=org_id) as session:  # type: ignore[arg-type]
        await milestones.open_request(session, actor=Actor(org_id=org_id),
                                      order_id=uuid.UUID(str(event["payload"]["order_id"])),
                                      milestone=milestones.MILESTONE_TOPICS[str(event["topic"])],
                                      today=today or dt.date.today())


def release_on_receipt(event: dict[str, Any]) -> None:
    """Release escrow for the received order (as the organization that received the goods)."""
    asyncio.run(_run(event, payments.release_escrow))


def release_on_invoice(event: dict[str, Any]) -> None:
    """Release escrow of the invoice's orders: goods received before the invoice was approved are paid now."""
    asyncio.run(_with_sessionmaker(lambda sessionmaker: run_invoice_release(sessionmaker, event)))


def refund_on_cancellation(event: dict[str, Any]) -> None:
    """Refund what escrow still holds for the cancelled order; orders never paid into escrow are left alone."""
    asyncio.run(_run(event, payments.refund_escrow))


async def _run(event: dict[str, Any], step: EscrowStep) -> None:
    await _with_sessionmaker(lambda sessionmaker: run_escrow_step(sessionmaker, event, step))


async def _with_sessionmaker(work: Callable[[Callable[[], AsyncSession]], Awaitable[None]]) -> None:
    engine = make_engine(require_url(get_settings().database_url, "DATABASE_URL"), pool_size=2, max_overflow=0)
    try:
        await work(make_sessionmaker(engine))
    finally:
        await engine.dispose()


async def run_escrow_step(sessionmaker: Callable[[], AsyncSession], event: dict[str, Any], step: EscrowStep) -> None:
    """One transaction as the event's organization: the step posts, records and announces, or does nothing."""
    org_id = uuid.UUID(str(event["org_id"]))
    order_id = uuid.UUID(str(event["payload"]["order_id"]))
    async with tenant_transaction(sessionmaker, org_id=org_id) as session:  # type: ignore[arg-type]
        if await payments.escrow_in_use(session, order_id=order_id):
            await step(session, actor=Actor(org_id=org_id), order_id=order_id)


async def run_invoice_release(sessionmaker: Callable[[], AsyncSession], event: dict[str, Any]) -> None:
    """One transaction as the event's organization (the invoice's supplier or buyer): release for each of the
    invoice's orders paid into escrow."""
    org_id = uuid.UUID(str(event["org_id"]))
    invoice_id = uuid.UUID(str(event["payload"]["invoice_id"]))
    async with tenant_transaction(sessionmaker, org_id=org_id) as session:  # type: ignore[arg-type]
        for order_id in await payments.orders_of_invoice(session, invoice_id):
            if await payments.escrow_in_use(session, order_id=order_id):
                await payments.release_escrow(session, actor=Actor(org_id=org_id), order_id=order_id)
