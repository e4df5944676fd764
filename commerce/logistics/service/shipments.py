"""Creating a shipment (advance shipping notice): the supplier picks stock for open order lines, packs it in
parcels and pallets, and every package, batch and serial gets a traceability identifier.

Picking takes the stock at once (conditional UPDATEs: never more than is on the shelf) and consumes the
order lines' reservations; packing is recorded as EPCIS AggregationEvents. Nothing of it leaves the
warehouse until ``dispatch.dispatch_shipment``.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Material
from catalog.service.materials import materials_by_id
from commerce.logistics.errors import ShipmentNotFound
from commerce.logistics.models import Carrier, Shipment, ShipmentItem, ShipmentLine, ShipmentPackage
from commerce.logistics.rules import MovementKind, ShipmentStatus, checked_quantity
from commerce.logistics.service import availability, reservations, traceability
from commerce.logistics.service.numbers import next_number
from commerce.logistics.service.stock import StockLine, in_base_unit, place_at, take_stock, warehouse_of
from commerce.logistics.service.traceability import Traceability
from commerce.orders.models import OrderLine, PurchaseOrder
from commerce.orders.rules import OrderStatus, Party
from commerce.orders.service.common import check_party, load_order, order_lines
from tradeloom.audit import Actor, record_audit
from tradeloom.db import flush_or_conflict, utcnow
from tradeloom.errors import Conflict, Invalid
from tradeloom.outbox.service import emit

SHIPPABLE = frozenset({OrderStatus.CONFIRMED, OrderStatus.IN_PRODUCTION, OrderStatus.PARTIALLY_SHIPPED})


@dataclass(frozen=True)
class ItemDraft:
    """Where a batch or a serial is picked from, how much (in the line's unit) and which package it goes in."""

    location_id: uuid.UUID
    quantity: Decimal
    batch: str = ""
    serial: str = ""
    package: str | None = None


@dataclass(frozen=True)
class LineDraft:
    order_line_id: uuid.UUID
    quantity: Decimal
    items: Sequence[ItemDraft]


@dataclass(frozen=True)
class PackageDraft:
    label: str
    kind: str = "package"  # package | pallet
    parent: str | None = None  # the pallet's label
    gross_weight_kg: Decimal | None = None


@dataclass(frozen=True)
class ShipmentDraft:
    order_id: uuid.UUID
    warehouse_id: uuid.UUID
    lines: Sequence[LineDraft]
    packages: Sequence[PackageDraft] = ()
    carrier_code: str | None = None
    tracking_number: str | None = None
    gross_weight_kg: Decimal | None = None
    note: str | None = None


def _refuse(message: str, code: str, pointer: str) -> Invalid:
    return Invalid(message, code=code, errors=[{"pointer": pointer, "detail": message}])


async def allocated_quantities(session: AsyncSession, *, order_id: uuid.UUID) -> dict[uuid.UUID, Decimal]:
    """Quantity per order line already on shipments of the order that are not cancelled (drafts included:
    what is packed is no longer open)."""
    query = (select(ShipmentLine.order_line_id, func.sum(ShipmentLine.quantity))
             .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
             .where(Shipment.order_id == order_id, Shipment.status != ShipmentStatus.CANCELLED.value)
             .group_by(ShipmentLine.order_line_id))
    return {line_id: total for line_id, total in (await session.execute(query)).all()}


@dataclass(frozen=True)
class OpenLine:
    line: OrderLine
    open_quantity: Decimal


async def open_lines(session: AsyncSession, *, order_id: uuid.UUID) -> list[OpenLine]:
    """The order's lines with what is still to be shipped (committed quantity less what is packed)."""
    allocated = await allocated_quantities(session, order_id=order_id)
    return [OpenLine(line, reservations.open_quantity(line) - allocated.get(line.id, Decimal(0)))
            for line in await order_lines(session, order_id)]


def _check_line(index: int, draft: LineDraft, line: OrderLine | None, allocated: Decimal) -> OrderLine:
    pointer = f"/lines/{index}"
    if line is None:
        raise _refuse("Not a line of this order.", "shipment_line_unknown", pointer)
    checked_quantity(draft.quantity, line.unit, pointer=f"{pointer}/quantity")
    open_quantity = reservations.open_quantity(line) - allocated
    if draft.quantity > open_quantity:
        raise _refuse(f"Line {line.line_no} has {open_quantity} {line.unit} open; {draft.quantity} is more than "
                      "ordered.", "shipment_exceeds_order", f"{pointer}/quantity")
    if not draft.items:
        raise _refuse("Say where the goods are picked from.", "shipment_items_missing", f"{pointer}/items")
    for item_index, item in enumerate(draft.items):
        checked_quantity(item.quantity, line.unit, pointer=f"{pointer}/items/{item_index}/quantity")
        if item.serial and item.quantity != 1:
            raise _refuse("A serial number names one piece: its quantity is 1.", "serial_quantity_not_one",
                          f"{pointer}/items/{item_index}/quantity")
    if sum((item.quantity for item in draft.items), Decimal(0)) != draft.quantity:
        raise _refuse("The picked batches and serials must add up to the line's quantity.",
                      "shipment_items_mismatch", f"{pointer}/items")
    return line


def _check_serials_once(lines: Sequence[LineDraft]) -> None:
    seen: set[tuple[uuid.UUID, str]] = set()
    for index, draft in enumerate(lines):
        for item_index, item in enumerate(draft.items):
            if not item.serial:
                continue
            if (draft.order_line_id, item.serial) in seen:
                raise _refuse(f"Serial number {item.serial} appears twice.", "serial_repeated",
                              f"/lines/{index}/items/{item_index}/serial")
            seen.add((draft.order_line_id, item.serial))


def _check_packages(draft: ShipmentDraft) -> None:
    labels = [package.label for package in draft.packages]
    if len(set(labels)) != len(labels):
        raise _refuse("Each package needs its own label.", "package_label_repeated", "/packages")
    pallets = {package.label for package in draft.packages if package.kind == "pallet"}
    for index, package in enumerate(draft.packages):
        if package.parent is not None and (package.parent not in pallets or package.kind == "pallet"):
            raise _refuse(f"Package {package.label} must sit on a pallet of this shipment.",
                          "package_parent_unknown", f"/packages/{index}/parent")
    for index, line in enumerate(draft.lines):
        for item_index, item in enumerate(line.items):
            if item.package is not None and item.package not in labels:
                raise _refuse(f"No package labelled {item.package}.", "package_unknown",
                              f"/lines/{index}/items/{item_index}/package")


async def _carrier(session: AsyncSession, code: str | None) -> Carrier | None:
    if code is None:
        return None
    carrier = await session.scalar(select(Carrier).where(Carrier.code == code))
    if carrier is None:
        raise _refuse(f"Unknown carrier {code}.", "carrier_unknown", "/carrier_code")
    return carrier


@dataclass
class _Packed:
    """What creation made, for the identifiers and events that follow."""

    shipment: Shipment
    packages: dict[str, ShipmentPackage] = field(default_factory=dict)
    items: list[tuple[ShipmentItem, Material]] = field(default_factory=list)


async def create_shipment(session: AsyncSession, *, actor: Actor, draft: ShipmentDraft,
                          where: Traceability) -> Shipment:
    """The supplier packs open order lines into a shipment: stock picked, reservations consumed, identifiers
    registered, packing recorded. Refused whole (nothing stored) on any bad line, short stock or reused serial."""
    order = await load_order(session, draft.order_id, lock=True)
    check_party(order, actor, Party.SUPPLIER)
    if order.status not in SHIPPABLE:
        raise Conflict(f"Order {order.number} is {order.status}; only confirmed orders are shipped.",
                       code="shipment_order_not_shippable")
    if not draft.lines:
        raise _refuse("A shipment carries at least one line.", "shipment_empty", "/lines")
    by_id = {line.id: line for line in await order_lines(session, order.id)}
    allocated = await allocated_quantities(session, order_id=order.id)
    lines = [_check_line(index, line, by_id.get(line.order_line_id), allocated.get(line.order_line_id, Decimal(0)))
             for index, line in enumerate(draft.lines)]
    if len({line.id for line in lines}) != len(lines):
        raise _refuse("Each order line appears once per shipment.", "shipment_line_repeated", "/lines")
    _check_serials_once(draft.lines)
    _check_packages(draft)
    await warehouse_of(session, warehouse_id=draft.warehouse_id)
    carrier = await _carrier(session, draft.carrier_code)
    packed = await _pack(session, actor=actor, order=order, draft=draft, lines=lines, carrier=carrier)
    await _pick(session, actor=actor, packed=packed, draft=draft)
    await _trace(session, actor=actor, packed=packed, order=order, where=where)
    await availability.publish(session, actor=actor, material_ids=[line.material_id for line in lines])
    shipment = packed.shipment
    facts = {"shipment_id": str(shipment.id), "number": shipment.number, "order_id": str(order.id),
             "order_number": order.number, "buyer_org_id": str(order.buyer_org_id)}
    await emit(session, org_id=actor.org_id, topic="shipment.created", payload=facts)
    await record_audit(session, actor=actor, action="shipment.created", object_type="shipment",
                       object_id=shipment.id, details=facts)
    return shipment


async def _pack(session: AsyncSession, *, actor: Actor, order: PurchaseOrder, draft: ShipmentDraft,
                lines: Sequence[OrderLine], carrier: Carrier | None) -> _Packed:
    parties = {"buyer_org_id": order.buyer_org_id, "supplier_org_id": order.supplier_org_id}
    shipment = Shipment(
        number=await next_number(session, actor=actor, kind="SH"), order_id=order.id, order_number=order.number,
        warehouse_id=draft.warehouse_id,
        carrier_id=carrier.id if carrier else None, carrier_org_id=carrier.org_id if carrier else None,
        tracking_number=draft.tracking_number, gross_weight_kg=draft.gross_weight_kg, note=draft.note,
        status=ShipmentStatus.DRAFT.value, created_by_user_id=actor.user_id, **parties)
    session.add(shipment)
    await session.flush()
    packed = _Packed(shipment)
    for package in sorted(draft.packages, key=lambda p: p.kind != "pallet"):  # pallets first: parents exist
        parent = packed.packages[package.parent].id if package.parent else None
        row = ShipmentPackage(shipment_id=shipment.id, kind=package.kind, label=package.label, parent_id=parent,
                              gross_weight_kg=package.gross_weight_kg, **parties)
        session.add(row)
        await session.flush()
        packed.packages[package.label] = row
    materials = await materials_by_id(session, material_ids={line.material_id for line in lines})
    for line_no, (line_draft, line) in enumerate(zip(draft.lines, lines, strict=True), start=1):
        shipment_line = ShipmentLine(shipment_id=shipment.id, line_no=line_no, order_line_id=line.id,
                                     material_id=line.material_id, material_code=line.material_code,
                                     quantity=line_draft.quantity, unit=line.unit, **parties)
        session.add(shipment_line)
        await session.flush()
        for item in line_draft.items:
            picked = ShipmentItem(shipment_id=shipment.id, shipment_line_id=shipment_line.id,
                               package_id=packed.packages[item.package].id if item.package else None,
                               material_id=line.material_id, location_id=item.location_id, batch=item.batch,
                               serial=item.serial, quantity=item.quantity, **parties)
            session.add(picked)
            packed.items.append((picked, materials[line.material_id]))
    await flush_or_conflict(session, "A serial number of this shipment has already been shipped.",
                            "serial_already_shipped")
    return packed


async def _pick(session: AsyncSession, *, actor: Actor, packed: _Packed, draft: ShipmentDraft) -> None:
    """Take every item's stock off its shelf; the line's reservation covers what it can."""
    reference = f"shipment:{packed.shipment.id}"
    lines = {row.id: row for row in await session.scalars(
        select(ShipmentLine).where(ShipmentLine.shipment_id == packed.shipment.id))}
    for item, material in packed.items:
        shipment_line = lines[item.shipment_line_id]
        base_quantity = in_base_unit(material, item.quantity, shipment_line.unit)
        covered = await reservations.consume(session, order_line_id=shipment_line.order_line_id,
                                             quantity=base_quantity)
        place = await place_at(session, location_id=item.location_id, batch=item.batch, serial=item.serial)
        if place.warehouse_id != draft.warehouse_id:
            raise _refuse("Goods are picked from the shipment's warehouse.", "location_other_warehouse", "/lines")
        await take_stock(session, actor=actor, kind=MovementKind.ISSUE,
                         line=StockLine(material.id, place, base_quantity), unit=material.base_unit,
                         reference=reference, release_reserved=covered)


async def _trace(session: AsyncSession, *, actor: Actor, packed: _Packed, order: PurchaseOrder,
                 where: Traceability) -> None:
    """Identifiers for every item and package, then packing as AggregationEvents (items → parcel → pallet)."""
    shipment = packed.shipment
    children: dict[uuid.UUID | None, list[str]] = {}
    for index, (item, material) in enumerate(packed.items, start=1):
        lot, serial = traceability.gs1_lot_and_serial(item.batch, item.serial)
        identifier = await traceability.register(
            session, actor=actor, where=where, suffix=f"{shipment.number}/{index:03d}",
            description=f"{material.name_zh} / {material.name_en}",
            gtin=material.gtin, lot=lot, serial=serial,
            values=[("MATERIAL_CODE", material.code), ("ORDER", order.number), ("SHIPMENT", shipment.number)]
            + ([("LOT", item.batch)] if item.batch else []) + ([("SERIAL", item.serial)] if item.serial else []))
        item.identifier_id, item.identifier_handle = identifier.id, identifier.handle
        children.setdefault(item.package_id, []).append(traceability.epc_of(identifier, where.base_url))
    package_epcs: dict[uuid.UUID, str] = {}
    for package in packed.packages.values():
        identifier = await traceability.register(
            session, actor=actor, where=where, suffix=f"{shipment.number}/{package.label}",
            description=f"{package.kind} {package.label}", values=[("SHIPMENT", shipment.number)])
        package.identifier_id, package.identifier_handle = identifier.id, identifier.handle
        package_epcs[package.id] = traceability.epc_of(identifier, where.base_url)
        if package.parent_id:
            children.setdefault(package.parent_id, []).append(package_epcs[package.id])
    await session.flush()
    now = utcnow()
    await traceability.capture_events(session, actor=actor, events=[
        traceability.aggregation_event(package_epcs[parent], epcs, at=now)
        for parent, epcs in children.items() if parent is not None and epcs])


async def get_shipment(session: AsyncSession, *, shipment_id: uuid.UUID, lock: bool = False) -> Shipment:
    """A shipment the caller's organization takes part in (buyer, supplier or carrier; others: 404)."""
    query = select(Shipment).where(Shipment.id == shipment_id)
    if lock:
        query = query.with_for_update()
    shipment = await session.scalar(query)
    if shipment is None:
        raise ShipmentNotFound("No such shipment.")
    return shipment
