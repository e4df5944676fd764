"""Factories for logistics: the order world plus a supplier warehouse with bolts on the shelf, a buyer
warehouse, and a confirmed order (made through the order services as the acting party)."""

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.models import Warehouse, WarehouseLocation
from commerce.orders.models import PurchaseOrder
from commerce.orders.service import transitions
from commerce.orders.service.create import OrderLineDraft
from tests.materials_factories import act_as, as_owner, owner_actor
from tests.orders_factories import OrderWorld, award_line, make_site, make_world, place_order


@dataclass(frozen=True)
class Store:
    """A warehouse with one location."""

    warehouse_id: uuid.UUID
    location_id: uuid.UUID
    site_id: uuid.UUID


@dataclass(frozen=True)
class LogisticsWorld:
    orders: OrderWorld
    supplier_store: Store
    buyer_store: Store


async def make_store(session: AsyncSession, *, org_id: uuid.UUID, site_id: uuid.UUID, code: str = "WH-1") -> Store:
    """A warehouse and its location ``A-01``, written as the owner (setup)."""
    await as_owner(session)
    warehouse = Warehouse(org_id=org_id, site_id=site_id, code=code, name_zh="成品仓", name_en="Finished goods")
    session.add(warehouse)
    await session.flush()
    location = WarehouseLocation(org_id=org_id, warehouse_id=warehouse.id, code="A-01", name="Rack A")
    session.add(location)
    await session.flush()
    return Store(warehouse.id, location.id, site_id)


async def make_logistics_world(session: AsyncSession) -> LogisticsWorld:
    world = await make_world(session)
    supplier_site = await make_site(session, world.supplier, code="NB-1")
    return LogisticsWorld(
        orders=world,
        supplier_store=await make_store(session, org_id=world.supplier.org.id, site_id=supplier_site),
        buyer_store=await make_store(session, org_id=world.buyer.org.id, site_id=world.site_id),
    )


async def confirmed_order(session: AsyncSession, world: LogisticsWorld, *lines: OrderLineDraft) -> PurchaseOrder:
    """An order placed and submitted by the buyer and confirmed as ordered by the supplier."""
    orders = world.orders
    order = await place_order(session, orders, *(lines or (award_line(orders, "300", "0.42", unit="H87"),)))
    order = await transitions.submit_order(session, actor=owner_actor(orders.buyer), order_id=order.id,
                                           expected_version=order.version)
    await act_as(session, orders.supplier)
    order = await transitions.confirm_order(session, actor=owner_actor(orders.supplier), order_id=order.id,
                                            expected_version=order.version)
    await as_owner(session)
    return order
