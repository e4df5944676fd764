"""RQ entry points: escrow follows the goods. A goods receipt releases what the received goods are worth; a
cancelled order gets back what is still held. Both are idempotent (the amounts are derived from what was
deposited, released and refunded before, so a redelivered event releases or refunds nothing more)."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement import payments
from tradeloom.audit import Actor
from tradeloom.db import make_engine, make_sessionmaker, tenant_transaction
from tradeloom.jobs import require_url
from tradeloom.outbox.subscriptions import subscribe
from tradeloom.settings import get_settings

GOODS_RECEIVED = "goods.received"  # published by commerce.logistics with the receipt's order_id
ORDER_CANCELLED = "order.cancelled"

EscrowStep = Callable[..., Awaitable[payments.Payment | None]]


def subscribe_jobs() -> None:
    subscribe(GOODS_RECEIVED, "commerce.settlement.jobs.release_on_receipt")
    subscribe(ORDER_CANCELLED, "commerce.settlement.jobs.refund_on_cancellation")


def release_on_receipt(event: dict[str, Any]) -> None:
    """Release escrow for the received order (as the organization that received the goods)."""
    asyncio.run(_run(event, payments.release_escrow))


def refund_on_cancellation(event: dict[str, Any]) -> None:
    """Refund what escrow still holds for the cancelled order; orders never paid into escrow are left alone."""
    asyncio.run(_run(event, payments.refund_escrow))


async def _run(event: dict[str, Any], step: EscrowStep) -> None:
    engine = make_engine(require_url(get_settings().database_url, "DATABASE_URL"), pool_size=2, max_overflow=0)
    try:
        await run_escrow_step(make_sessionmaker(engine), event, step)
    finally:
        await engine.dispose()


async def run_escrow_step(sessionmaker: Callable[[], AsyncSession], event: dict[str, Any], step: EscrowStep) -> None:
    """One transaction as the event's organization: the step posts, records and announces, or does nothing."""
    org_id = uuid.UUID(str(event["org_id"]))
    order_id = uuid.UUID(str(event["payload"]["order_id"]))
    async with tenant_transaction(sessionmaker, org_id=org_id) as session:  # type: ignore[arg-type]
        if await payments.escrow_in_use(session, order_id=order_id):
            await step(session, actor=Actor(org_id=org_id), order_id=order_id)
