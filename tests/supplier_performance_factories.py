"""Factories for supplier performance: confirmed orders of the logistics world received on a given due date,
with rejections and a slow confirmation, written through the order services and adjusted as the owner."""

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.models import GoodsReceiptLine
from commerce.orders.models import OrderEvent, OrderLine, PurchaseOrder
from tests.logistics_factories import LogisticsWorld
from tests.materials_factories import as_owner
from tests.settlement_factories import receive, settlement_order
from tradeloom.db import utcnow


async def delivered(session: AsyncSession, world: LogisticsWorld, *, due_in_days: int, accepted: str = "10",
                    rejected: str = "0", confirm_hours: int = 0) -> tuple[PurchaseOrder, OrderLine]:
    """A 10-box order confirmed ``confirm_hours`` after it was sent, due ``due_in_days`` from today, received
    today with ``accepted`` / ``rejected`` boxes."""
    order, line = await settlement_order(session, world)
    await as_owner(session)
    await session.execute(update(OrderLine).where(OrderLine.id == line.id)
                          .values(confirmed_date=utcnow().date() + dt.timedelta(days=due_in_days)))
    if confirm_hours:
        sent_at = await session.scalar(select(OrderEvent.at).where(OrderEvent.order_id == order.id,
                                                                   OrderEvent.to_status == "sent"))
        assert sent_at is not None
        await session.execute(update(OrderEvent).where(OrderEvent.order_id == order.id,
                                                       OrderEvent.kind == "order.confirmed")
                              .values(at=sent_at + dt.timedelta(hours=confirm_hours)))
    await receive(session, world, order, line, accepted)
    if rejected != "0":
        await session.execute(update(GoodsReceiptLine).where(GoodsReceiptLine.order_line_id == line.id)
                              .values(rejected=Decimal(rejected)))
    return order, line


async def set_status(session: AsyncSession, order_id: uuid.UUID, status: str) -> None:
    """Setup only: move an order to ``status`` as the owner (the order services test the real steps)."""
    await as_owner(session)
    await session.execute(update(PurchaseOrder).where(PurchaseOrder.id == order_id).values(status=status))
