"""Demo logistics: warehouses of Ningbo Precision Fasteners (nbpf) and East China Heavy Machinery (ecm), the
demo bolt on nbpf's shelves, Shunda Logistics (sdwl) as a carrier, and shipments in different states —
one received with a rejected part, one on its way, one packed and waiting to be dispatched.

Run by ``tradeloom seed-demo`` after the demo orders; idempotent (does nothing once nbpf has a warehouse).
Everything goes through the logistics services as the acting party, so stock movements, identifiers, EPCIS
events, outbox and evidence are what real use would have written.
"""

import secrets
import uuid
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import SupplierOffer
from commerce.logistics.models import Carrier, ShipmentLine, Warehouse
from commerce.logistics.rules import TrackingState
from commerce.logistics.service import dispatch, receiving, reservations, shipments, stock, tracking, warehouses
from commerce.logistics.service.receiving import ReceiptDraft, ReceiptLineDraft
from commerce.logistics.service.shipments import ItemDraft, LineDraft, PackageDraft, ShipmentDraft
from commerce.logistics.service.traceability import Traceability
from commerce.orders.models import OrderLine, PurchaseOrder
from tradeloom.audit import Actor
from tradeloom.db import apply_tenant, utcnow
from tradeloom.seed import DemoWorld
from tradeloom.settings import get_settings
from tradeloom.sites.models import Site

BATCH = "NB2611-07"


async def _act(session: AsyncSession, actor: Actor) -> None:
    await apply_tenant(session, org_id=actor.org_id, user_id=actor.user_id)


async def _store(session: AsyncSession, actor: Actor, code: str, name_zh: str, name_en: str) -> uuid.UUID:
    """A warehouse with two locations at the organization's first site; returns the first location."""
    await _act(session, actor)
    site_id = await session.scalar(select(Site.id).where(Site.org_id == actor.org_id).order_by(Site.code).limit(1))
    assert site_id is not None, "the demo world gives every organization a site"
    view = await warehouses.create_warehouse(session, actor=actor, site_id=site_id, code=code, name_zh=name_zh,
                                             name_en=name_en, locations=[("A-01", "货架 A-01"), ("A-02", "货架 A-02")])
    return view.locations[0].id


async def _line(session: AsyncSession, buyer_org: uuid.UUID, status: str) -> OrderLine | None:
    """The first line of ecm's demo order in this status (the orders seed made one per state)."""
    order_id = await session.scalar(select(PurchaseOrder.id).where(
        PurchaseOrder.buyer_org_id == buyer_org, PurchaseOrder.status == status).order_by(PurchaseOrder.created_at)
        .limit(1))
    if order_id is None:
        return None
    return await session.scalar(select(OrderLine).where(OrderLine.order_id == order_id))


async def _ship(session: AsyncSession, actor: Actor, where: Traceability, line: OrderLine, warehouse_id: uuid.UUID,
                location_id: uuid.UUID, boxes: str, *, carrier: str | None = None) -> uuid.UUID:
    await _act(session, actor)
    shipment = await shipments.create_shipment(session, actor=actor, where=where, draft=ShipmentDraft(
        order_id=line.order_id, warehouse_id=warehouse_id, carrier_code=carrier,
        tracking_number=f"SD{uuid.uuid4().int % 10**10:010d}" if carrier else None,
        packages=[PackageDraft("PAL-1", "pallet", gross_weight_kg=Decimal("180")),
                  PackageDraft("CTN-1", parent="PAL-1", gross_weight_kg=Decimal("42.5"))],
        lines=[LineDraft(line.id, Decimal(boxes), [ItemDraft(location_id, Decimal(boxes), BATCH, package="CTN-1")])]))
    return shipment.id


async def seed_logistics(session: AsyncSession, world: DemoWorld) -> None:
    """Warehouses, stock and three shipments (runs as the database owner; acts as each party in turn)."""
    supplier_org, buyer_org = world.organizations["nbpf"], world.organizations["ecm"]
    if await session.scalar(select(Warehouse.id).where(Warehouse.org_id == supplier_org).limit(1)):
        return
    settings = get_settings()
    where = Traceability(prefix=settings.handle_prefix, base_url=settings.public_base_url)
    shipper = Actor(org_id=supplier_org, user_id=world.users["nbpf.warehouse"])
    receiver = Actor(org_id=buyer_org, user_id=world.users["ecm.warehouse"])
    session.add(Carrier(code="sdwl", name_zh="顺达物流", name_en="Shunda Logistics",
                        org_id=world.organizations["sdwl"], webhook_secret=secrets.token_hex(24)))
    await session.flush()  # as the owner: carriers are platform data
    supplier_location = await _store(session, shipper, "NB-FG", "宁波成品仓", "Ningbo finished goods")
    buyer_location = await _store(session, receiver, "SH-RM", "上海原材料仓", "Shanghai raw materials")
    bolt_id = await session.scalar(select(SupplierOffer.material_id).where(SupplierOffer.org_id == supplier_org)
                                   .limit(1))
    assert bolt_id is not None, "the orders seed gives nbpf its demo bolt"
    await _act(session, shipper)
    await stock.receive_stock(session, actor=shipper, material_id=bolt_id, location_id=supplier_location,
                              quantity=Decimal(50000), batch=BATCH, reason="生产入库 production")
    warehouse_id = (await stock.location_of(session, location_id=supplier_location)).warehouse_id
    received_line = await _line(session, buyer_org, "confirmed")
    moving_line = await _line(session, buyer_org, "in_production")
    if received_line is None or moving_line is None:
        return
    for line in (received_line, moving_line):
        await reservations.reserve_order(session, actor=shipper, order_id=line.order_id, warehouse_id=warehouse_id)
    delivered = await _ship(session, shipper, where, received_line, warehouse_id, supplier_location, "30",
                            carrier="sdwl")
    moving = await _ship(session, shipper, where, moving_line, warehouse_id, supplier_location, "60", carrier="sdwl")
    for shipment_id in (delivered, moving):
        await _dispatch(session, shipper, where, shipment_id)
    for state in (TrackingState.PICKED_UP, TrackingState.IN_TRANSIT, TrackingState.DELIVERED):
        await tracking.record_manual_tracking(session, actor=shipper, shipment_id=delivered, where=where,
                                              update=tracking.TrackingUpdate(state=state, at=utcnow(),
                                                                             location="宁波 → 上海"))
    await tracking.record_manual_tracking(session, actor=shipper, shipment_id=moving, where=where,
                                          update=tracking.TrackingUpdate(state=TrackingState.PICKED_UP, at=utcnow()))
    await _ship(session, shipper, where, moving_line, warehouse_id, supplier_location, "20")  # packed, not sent
    await _receive(session, receiver, where, delivered, buyer_location)
    await session.execute(text("RESET ROLE"))


async def _dispatch(session: AsyncSession, shipper: Actor, where: Traceability, shipment_id: uuid.UUID) -> None:
    shipment = await shipments.get_shipment(session, shipment_id=shipment_id)
    await dispatch.dispatch_shipment(session, actor=shipper, shipment_id=shipment_id, where=where,
                                     expected_version=shipment.version)


async def _receive(session: AsyncSession, receiver: Actor, where: Traceability, shipment_id: uuid.UUID,
                   location_id: uuid.UUID) -> None:
    """ecm accepts 29 of the 30 boxes; one box had rusty bolts."""
    await _act(session, receiver)
    line_id = await session.scalar(select(ShipmentLine.id).where(ShipmentLine.shipment_id == shipment_id))
    assert line_id is not None
    await receiving.receive_shipment(session, actor=receiver, where=where, draft=ReceiptDraft(
        shipment_id=shipment_id, location_id=location_id, inspection="partial", notes="一箱螺栓锈蚀 one box rusty",
        lines=[ReceiptLineDraft(line_id, Decimal(29), Decimal(1), BATCH, "锈蚀 rust")]))
