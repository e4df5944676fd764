"""Factories for logistics: the order world plus a supplier warehouse with bolts on the shelf, a buyer
warehouse, and a confirmed order (made through the order services as the acting party)."""

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.models import Shipment, Warehouse, WarehouseLocation
from commerce.logistics.service import dispatch, shipments, stock
from commerce.logistics.service.shipments import ItemDraft, LineDraft, PackageDraft, ShipmentDraft
from commerce.logistics.service.traceability import Traceability
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


TRACE = Traceability(prefix="88.118.8866", base_url="https://trace.example.test")


async def stock_up(session: AsyncSession, world: LogisticsWorld, quantity: str = "500", batch: str = "B-0001",
                   serial: str = "") -> None:
    """Bolts on the supplier's shelf, received through the stock service."""
    supplier = world.orders.supplier
    await act_as(session, supplier)
    await stock.receive_stock(session, actor=owner_actor(supplier), material_id=world.orders.bolt.id,
                              location_id=world.supplier_store.location_id, quantity=Decimal(quantity), batch=batch,
                              serial=serial)
    await as_owner(session)


def one_batch(world: LogisticsWorld, line_id: uuid.UUID, quantity: str, batch: str = "B-0001",
              package: str | None = None) -> LineDraft:
    return LineDraft(order_line_id=line_id, quantity=Decimal(quantity), items=[ItemDraft(
        location_id=world.supplier_store.location_id, quantity=Decimal(quantity), batch=batch, package=package)])


async def pack(session: AsyncSession, world: LogisticsWorld, order_id: uuid.UUID, *lines: LineDraft,
               packages: tuple[PackageDraft, ...] = ()) -> Shipment:
    """A draft shipment made by the supplier (session left as the supplier)."""
    supplier = world.orders.supplier
    await act_as(session, supplier)
    return await shipments.create_shipment(session, actor=owner_actor(supplier), where=TRACE, draft=ShipmentDraft(
        order_id=order_id, warehouse_id=world.supplier_store.warehouse_id, lines=lines, packages=packages,
        tracking_number="SF1234567890"))


async def dispatched(session: AsyncSession, world: LogisticsWorld, order_id: uuid.UUID, *lines: LineDraft,
                     packages: tuple[PackageDraft, ...] = ()) -> Shipment:
    shipment = await pack(session, world, order_id, *lines, packages=packages)
    return await dispatch.dispatch_shipment(session, actor=owner_actor(world.orders.supplier), where=TRACE,
                                            shipment_id=shipment.id, expected_version=shipment.version)
