"""Reading shipments: lists for each party, the detail with contents and timeline, lookup by a scanned label."""

import uuid
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Material
from commerce.logistics.errors import ShipmentNotFound
from commerce.logistics.models import Shipment, ShipmentItem, ShipmentLine, ShipmentPackage, TrackingEvent
from commerce.logistics.service.shipments import get_shipment
from commerce.logistics.service.tracking import timeline
from ledger.identifiers.digital_link import DigitalLinkInvalid, parse_digital_link

MAX_LISTED = 200


@dataclass(frozen=True)
class ShipmentView:
    shipment: Shipment
    lines: list[ShipmentLine]
    packages: list[ShipmentPackage]
    items: list[ShipmentItem]
    tracking: list[TrackingEvent]


async def list_shipments(session: AsyncSession, *, org_id: uuid.UUID, role: str | None = None,
                         status: str | None = None) -> list[Shipment]:
    """Newest first: shipments the organization sends (``role=supplier``), receives (``buyer``), carries
    (``carrier``), or all of them."""
    sides = {"supplier": Shipment.supplier_org_id, "buyer": Shipment.buyer_org_id, "carrier": Shipment.carrier_org_id}
    chosen = [sides[role]] if role in sides else list(sides.values())
    query = (select(Shipment).where(or_(*(column == org_id for column in chosen)))
             .order_by(Shipment.created_at.desc()).limit(MAX_LISTED))
    if status:
        query = query.where(Shipment.status == status)
    return list((await session.scalars(query)).all())


async def shipment_view(session: AsyncSession, *, shipment_id: uuid.UUID) -> ShipmentView:
    """A shipment with its lines, packages, items and tracking timeline."""
    shipment = await get_shipment(session, shipment_id=shipment_id)
    of_shipment = shipment.id
    lines = await session.scalars(select(ShipmentLine).where(ShipmentLine.shipment_id == of_shipment)
                                  .order_by(ShipmentLine.line_no))
    packages = await session.scalars(select(ShipmentPackage).where(ShipmentPackage.shipment_id == of_shipment)
                                     .order_by(ShipmentPackage.label))
    items = await session.scalars(select(ShipmentItem).where(ShipmentItem.shipment_id == of_shipment)
                                  .order_by(ShipmentItem.identifier_handle))
    return ShipmentView(shipment, list(lines), list(packages), list(items),
                        await timeline(session, shipment_id=of_shipment))


async def shipment_by_label(session: AsyncSession, *, scanned: str) -> Shipment:
    """The shipment a scanned QR label (traceability URL or Digital Link) or a typed handle belongs to."""
    scanned = scanned.strip()
    if "/01/" in scanned:
        return await _by_digital_link(session, scanned)
    handle = scanned.split("/t/", 1)[-1]
    for table in (ShipmentItem, ShipmentPackage):
        shipment_id = await session.scalar(select(table.shipment_id).where(table.identifier_handle == handle)
                                           .limit(1))
        if shipment_id is not None:
            return await get_shipment(session, shipment_id=shipment_id)
    raise ShipmentNotFound(f"No shipment of yours carries {handle}.", code="label_unknown")


async def _by_digital_link(session: AsyncSession, uri: str) -> Shipment:
    """A trade item's label carries its GS1 Digital Link: find the newest shipment item with that GTIN, lot
    and serial."""
    try:
        link = parse_digital_link(uri)
    except DigitalLinkInvalid as exc:
        raise ShipmentNotFound("The scanned code is not a label of ours.", code="label_unknown") from exc
    query = (select(ShipmentItem.shipment_id).join(Material, Material.id == ShipmentItem.material_id)
             .join(Shipment, Shipment.id == ShipmentItem.shipment_id)
             .where(Material.gtin == link.gtin, ShipmentItem.batch == (link.lot or ""),
                    ShipmentItem.serial == (link.serial or ""))
             .order_by(Shipment.created_at.desc()).limit(1))
    shipment_id = await session.scalar(query)
    if shipment_id is None:
        raise ShipmentNotFound("No shipment of yours carries this item.", code="label_unknown")
    return await get_shipment(session, shipment_id=shipment_id)
