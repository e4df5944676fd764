"""A shipment leaves and arrives: dispatch (the supplier), delivery (the carrier's last step). Each writes an
outbox event, an EPCIS ObjectEvent and an evidence entry, and dispatch moves the order on through the order
package's own steps (ship or ship-partially)."""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Material
from commerce.logistics.errors import ShipmentNotFound
from commerce.logistics.models import Shipment, ShipmentItem, ShipmentPackage
from commerce.logistics.receipts import shipped_quantities
from commerce.logistics.rules import ShipmentStatus, TrackingState
from commerce.logistics.service import traceability
from commerce.logistics.service.reservations import open_quantity
from commerce.logistics.service.shipments import get_shipment
from commerce.logistics.service.traceability import Traceability
from commerce.orders.rules import SimpleStep
from commerce.orders.service.common import load_order, order_lines
from commerce.orders.service.transitions import advance_order
from ledger.identifiers.service import traceability_url
from ledger.service import record_evidence
from tradeloom.audit import Actor, record_audit
from tradeloom.concurrency import check_version
from tradeloom.db import utcnow
from tradeloom.errors import Conflict
from tradeloom.outbox.service import emit


async def top_level_epcs(session: AsyncSession, *, shipment_id: uuid.UUID, base_url: str) -> list[str]:
    """What a carrier handles, as EPCs: pallets, parcels not on a pallet, and items not in a parcel.

    Worked out from the shipment's own rows (both parties read them), not from the supplier's identifiers."""
    packages = await session.scalars(select(ShipmentPackage.identifier_handle).where(
        ShipmentPackage.shipment_id == shipment_id, ShipmentPackage.parent_id.is_(None)))
    loose = await session.execute(
        select(ShipmentItem.identifier_handle, Material.gtin, ShipmentItem.batch, ShipmentItem.serial)
        .join(Material, Material.id == ShipmentItem.material_id)
        .where(ShipmentItem.shipment_id == shipment_id, ShipmentItem.package_id.is_(None)))
    epcs = [traceability_url(base_url, handle) for handle in packages if handle]
    epcs += [traceability.item_epc(handle, gtin, batch, serial, base_url=base_url)
             for handle, gtin, batch, serial in loose.all() if handle]
    return sorted(epcs)


def shipment_facts(shipment: Shipment) -> dict[str, str | None]:
    return {"shipment_id": str(shipment.id), "number": shipment.number, "order_id": str(shipment.order_id),
            "buyer_org_id": str(shipment.buyer_org_id), "supplier_org_id": str(shipment.supplier_org_id),
            "status": shipment.status, "tracking_number": shipment.tracking_number}


async def record_milestone(session: AsyncSession, *, actor: Actor, shipment: Shipment, topic: str, biz_step: str,
                           disposition: str, where: Traceability, extra: dict[str, object] | None = None) -> None:
    """Outbox event, audit, evidence and the EPCIS ObjectEvent of one step of the shipment."""
    facts = shipment_facts(shipment) | (extra or {})
    epcs = await top_level_epcs(session, shipment_id=shipment.id, base_url=where.base_url)
    await traceability.capture_events(session, actor=actor, events=[traceability.object_event(
        epcs, biz_step=biz_step, disposition=disposition, at=utcnow(), order_number=shipment.order_number,
        shipment_number=shipment.number)] if epcs else [])
    await emit(session, org_id=actor.org_id, topic=topic, payload=facts)
    await record_audit(session, actor=actor, action=topic, object_type="shipment", object_id=shipment.id,
                       details=facts)
    await record_evidence(session, org_id=actor.org_id, kind=topic, subject=f"shipment:{shipment.id}", payload=facts)


async def dispatch_shipment(session: AsyncSession, *, actor: Actor, shipment_id: uuid.UUID, expected_version: int,
                            where: Traceability) -> Shipment:
    """The goods leave: the shipment is dispatched and the order becomes shipped or partially shipped."""
    shipment = await get_shipment(session, shipment_id=shipment_id, lock=True)
    if shipment.supplier_org_id != actor.org_id:
        raise ShipmentNotFound("No such shipment of yours.", code="shipment_not_yours")
    check_version(shipment.version, expected_version)
    if shipment.status != ShipmentStatus.DRAFT:
        raise Conflict(f"Shipment {shipment.number} is {shipment.status}; only a draft is dispatched.",
                       code="shipment_not_draft")
    shipment.status, shipment.dispatched_at = ShipmentStatus.DISPATCHED.value, utcnow()
    await session.flush()
    await record_milestone(session, actor=actor, shipment=shipment, topic="shipment.dispatched", biz_step="shipping",
                           disposition="in_transit", where=where)
    await _advance_order(session, actor=actor, order_id=shipment.order_id, note=shipment.number)
    return shipment


async def _advance_order(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, note: str) -> None:
    """Shipped when every line's committed quantity has left, else partially shipped (the order's own step)."""
    order = await load_order(session, order_id, lock=True)
    lines = await order_lines(session, order.id)
    shipped = await shipped_quantities(session, order_line_ids=[line.id for line in lines])
    complete = all(shipped[line.id] >= open_quantity(line) for line in lines)
    step = SimpleStep.SHIP if complete else SimpleStep.SHIP_PARTIALLY
    await advance_order(session, actor=actor, order_id=order.id, expected_version=order.version, action=step,
                        note=note)


async def mark_delivered(session: AsyncSession, *, actor: Actor, shipment: Shipment, where: Traceability) -> None:
    """The carrier delivered: the shipment waits for the buyer's goods receipt."""
    if shipment.status != ShipmentStatus.DISPATCHED:
        return
    shipment.status, shipment.delivered_at = ShipmentStatus.DELIVERED.value, utcnow()
    shipment.tracking_state = TrackingState.DELIVERED.value
    await session.flush()
    await record_milestone(session, actor=actor, shipment=shipment, topic="shipment.delivered", biz_step="arriving",
                           disposition="in_progress", where=where)

