"""The demo orders: one in every state, placed through the services, and a second run adds nothing."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.orders.models import OrderEvent, PurchaseOrder
from commerce.orders.rules import OrderStatus
from commerce.orders.seed import seed_orders
from tradeloom.seed import seed_world


async def test_demo_orders_cover_every_state_once(session: AsyncSession) -> None:
    # given the demo world
    world = await seed_world(session)
    # when the order seed runs twice
    await seed_orders(session, world)
    await seed_orders(session, world)
    # then every state has one order (drafts: the unsubmitted one), each with its timeline
    statuses = (await session.scalars(select(PurchaseOrder.status))).all()
    assert sorted(set(statuses)) == sorted(status.value for status in OrderStatus)
    assert len(statuses) == 12
    events = await session.scalar(select(func.count()).select_from(OrderEvent))
    assert events is not None and events > 40
    partial = await session.scalar(select(PurchaseOrder).where(PurchaseOrder.confirmation == "partial"))
    assert partial is not None and partial.gross_total == partial.net_total + partial.tax_total
