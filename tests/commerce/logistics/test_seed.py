"""The demo logistics: warehouses, stock and shipments in several states; a second run adds nothing."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.models import GoodsReceipt, Shipment
from commerce.logistics.seed import seed_logistics
from commerce.logistics.service.stock import check_levels
from commerce.orders.seed import seed_orders
from tradeloom.seed import seed_world


async def test_demo_shipments_in_several_states(session: AsyncSession) -> None:
    world = await seed_world(session)
    await seed_orders(session, world)
    await seed_logistics(session, world)
    await seed_logistics(session, world)
    shipments = (await session.scalars(select(Shipment).order_by(Shipment.created_at))).all()
    assert [(s.status, s.tracking_state) for s in shipments] == [
        ("received", "delivered"), ("dispatched", "picked_up"), ("draft", "pending")]
    receipt = (await session.scalars(select(GoodsReceipt))).one()
    assert receipt.inspection == "partial"
    assert await check_levels(session) == []
