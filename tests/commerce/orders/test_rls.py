"""Row-level security on orders: both parties read, nobody else does, and the database itself refuses a
supplier's write that only the buyer's steps could make."""

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.orders.models import OrderEvent, OrderLine, PurchaseOrder
from tests.factories import make_member
from tests.materials_factories import act_as, as_owner
from tests.orders_factories import OrderWorld, place_order
from tradeloom.identity.roles import Role


async def _visible(session: AsyncSession) -> tuple[int, int, int]:
    counts = [await session.scalar(select(func.count()).select_from(model))
              for model in (PurchaseOrder, OrderLine, OrderEvent)]
    return (int(counts[0] or 0), int(counts[1] or 0), int(counts[2] or 0))


async def test_both_parties_read_a_third_organization_sees_nothing(session: AsyncSession, world: OrderWorld) -> None:
    await place_order(session, world)
    await as_owner(session)
    stranger = await make_member(session, roles=(Role.BUYER,))
    seen = {}
    for name, member in (("buyer", world.buyer), ("supplier", world.supplier), ("stranger", stranger)):
        await act_as(session, member)
        seen[name] = await _visible(session)
    assert seen == {"buyer": (1, 1, 1), "supplier": (1, 1, 1), "stranger": (0, 0, 0)}


@pytest.mark.parametrize("status", ["cancelled", "sent", "closed"])
async def test_the_supplier_cannot_write_a_buyer_state(session: AsyncSession, world: OrderWorld, status: str) -> None:
    order = await place_order(session, world)
    await act_as(session, world.supplier)
    with pytest.raises(DBAPIError, match="row-level security"):
        async with session.begin_nested():
            await session.execute(update(PurchaseOrder).where(PurchaseOrder.id == order.id).values(status=status))
    await as_owner(session)
    assert await session.scalar(select(PurchaseOrder.status).where(PurchaseOrder.id == order.id)) == "draft"


async def test_the_supplier_cannot_write_a_step_in_the_buyers_name(session: AsyncSession, world: OrderWorld) -> None:
    order = await place_order(session, world)
    await act_as(session, world.supplier)
    with pytest.raises(DBAPIError, match="row-level security"):
        async with session.begin_nested():
            await session.execute(text(
                "INSERT INTO order_events (order_id, buyer_org_id, supplier_org_id, at, actor_org_id, kind, "
                "to_status, order_version, details) VALUES (:o, :b, :s, now(), :b, 'order.approved', 'sent', 1, '{}')"
            ), {"o": order.id, "b": world.buyer.org.id, "s": world.supplier.org.id})
