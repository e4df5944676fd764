"""Goods receipt: the buyer receives a delivered (or dispatched) shipment once, accepting and rejecting
quantities per line and batch after inspection.

The receipt posts the accepted goods into the buyer's warehouse (receipt movements), marks the shipment
received, moves the order to ``received`` when every shipment of a fully shipped order is in, and emits
``goods.received`` with the per-line quantities that settlement matches invoices against — plus the EPCIS
receiving event and an evidence entry. A second receipt of the same shipment is a 409.
"""

import io
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import ARRAY, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.service.materials import materials_by_id
from catalog.storage import AttachmentStorage
from commerce.logistics.errors import ShipmentNotFound
from commerce.logistics.models import GoodsReceipt, GoodsReceiptLine, Shipment, ShipmentItem, ShipmentLine
from commerce.logistics.rules import MovementKind, ShipmentStatus, checked_quantity
from commerce.logistics.service.dispatch import record_milestone
from commerce.logistics.service.numbers import next_number
from commerce.logistics.service.shipments import get_shipment
from commerce.logistics.service.stock import add_stock, place_at, stock_lines
from commerce.logistics.service.traceability import Traceability
from commerce.orders.rules import OrderStatus, SimpleStep
from commerce.orders.service.common import load_order
from commerce.orders.service.transitions import advance_order
from tradeloom.audit import Actor, record_audit
from tradeloom.db import flush_or_conflict, utcnow
from tradeloom.errors import Conflict, Invalid, NotFound

INSPECTIONS = ("passed", "partial", "failed")


@dataclass(frozen=True)
class ReceiptLineDraft:
    """Of one shipment line and batch: how much was accepted and how much rejected (and why)."""

    shipment_line_id: uuid.UUID
    accepted: Decimal
    rejected: Decimal = Decimal(0)
    batch: str = ""
    rejection_reason: str | None = None
    rejected_serials: Sequence[str] = ()  # serial-tracked goods: which pieces were rejected


@dataclass(frozen=True)
class ReceiptDraft:
    shipment_id: uuid.UUID
    location_id: uuid.UUID
    inspection: str = "passed"
    notes: str | None = None
    lines: Sequence[ReceiptLineDraft] = ()  # none given: everything accepted as shipped
    photos: Sequence[dict[str, Any]] = ()


@dataclass(frozen=True)
class ShippedBatch:
    line: ShipmentLine
    batch: str
    quantity: Decimal
    serials: tuple[str, ...] = ()  # serial-tracked goods: one piece (of the line's unit) per serial


async def shipped_batches(session: AsyncSession, *, shipment_id: uuid.UUID) -> list[ShippedBatch]:
    """What the shipment carries per line and batch, for the receiving form."""
    return list((await _shipped_batches(session, shipment_id)).values())


async def _shipped_batches(session: AsyncSession, shipment_id: uuid.UUID) -> dict[tuple[uuid.UUID, str],
                                                                                     ShippedBatch]:
    """What the shipment carries per line and batch (serials of a batch added up and listed)."""
    lines = {line.id: line for line in await session.scalars(
        select(ShipmentLine).where(ShipmentLine.shipment_id == shipment_id))}
    serials = func.array_remove(func.array_agg(ShipmentItem.serial.distinct()), "", type_=ARRAY(String))
    totals = await session.execute(
        select(ShipmentItem.shipment_line_id, ShipmentItem.batch, func.sum(ShipmentItem.quantity), serials)
        .where(ShipmentItem.shipment_id == shipment_id)
        .group_by(ShipmentItem.shipment_line_id, ShipmentItem.batch))
    return {(line_id, batch): ShippedBatch(lines[line_id], batch, total, tuple(sorted(serial_list)))
            for line_id, batch, total, serial_list in totals.all()}


def _accepted_serials(shipped: ShippedBatch, line: ReceiptLineDraft, pointer: str) -> list[str]:
    """The serials put away: all shipped ones but those named rejected, which must be as many as rejected."""
    rejected = set(line.rejected_serials)
    if not shipped.serials:
        if rejected:
            raise Invalid("These goods carry no serial numbers.", code="receipt_serials_mismatch",
                          errors=[{"pointer": f"{pointer}/rejected_serials"}])
        return []
    if len(rejected) != len(line.rejected_serials) or not rejected <= set(shipped.serials) \
            or len(rejected) != line.rejected:
        raise Invalid(f"Name the {line.rejected} rejected pieces by their serial numbers (of this shipment).",
                      code="receipt_serials_mismatch", errors=[{"pointer": f"{pointer}/rejected_serials"}])
    return [serial for serial in shipped.serials if serial not in rejected]


@dataclass(frozen=True)
class Counted:
    shipped: ShippedBatch
    line: ReceiptLineDraft
    serials: list[str]  # accepted serials (serial-tracked goods)


def _counted(draft: ReceiptDraft, shipped: dict[tuple[uuid.UUID, str], ShippedBatch]) -> list[Counted]:
    """Each shipped line and batch with what the buyer counted; all of it must be accounted for."""
    if not draft.lines:
        return [Counted(s, ReceiptLineDraft(s.line.id, s.quantity, Decimal(0), s.batch), list(s.serials))
                for s in shipped.values()]
    counted: dict[tuple[uuid.UUID, str], Counted] = {}
    for index, line in enumerate(draft.lines):
        pointer = f"/lines/{index}"
        found = shipped.get((line.shipment_line_id, line.batch))
        if found is None or (line.shipment_line_id, line.batch) in counted:
            raise Invalid("Not a line and batch of this shipment (or named twice).", code="receipt_line_unknown",
                          errors=[{"pointer": pointer, "detail": "unknown or repeated line and batch"}])
        checked_quantity(line.accepted, found.line.unit, pointer=f"{pointer}/accepted", allow_zero=True)
        checked_quantity(line.rejected, found.line.unit, pointer=f"{pointer}/rejected", allow_zero=True)
        if line.accepted + line.rejected != found.quantity:
            raise Invalid(f"Accepted and rejected must add up to the {found.quantity} {found.line.unit} shipped.",
                          code="receipt_quantities_mismatch",
                          errors=[{"pointer": pointer, "detail": f"shipped {found.quantity}"}])
        counted[(line.shipment_line_id, line.batch)] = Counted(found, line, _accepted_serials(found, line, pointer))
    missing = [key for key in shipped if key not in counted]
    if missing:
        raise Invalid("Every shipped line and batch must be counted.", code="receipt_lines_missing",
                      errors=[{"pointer": "/lines", "detail": f"{len(missing)} not counted"}])
    return list(counted.values())


async def _check_receivable(shipment: Shipment, actor: Actor) -> None:
    if shipment.buyer_org_id != actor.org_id:
        raise ShipmentNotFound("No such shipment addressed to you.", code="shipment_not_yours")
    if shipment.status == ShipmentStatus.RECEIVED:
        raise Conflict(f"Shipment {shipment.number} has already been received.", code="shipment_already_received")
    if shipment.status not in (ShipmentStatus.DISPATCHED, ShipmentStatus.DELIVERED):
        raise Conflict(f"Shipment {shipment.number} is {shipment.status}; only dispatched goods are received.",
                       code="shipment_not_dispatched")


async def receive_shipment(session: AsyncSession, *, actor: Actor, draft: ReceiptDraft,
                           where: Traceability) -> GoodsReceipt:
    """The buyer's goods receipt of a shipment (see the module docstring)."""
    if draft.inspection not in INSPECTIONS:
        raise Invalid("Inspection is passed, partial or failed.", code="receipt_inspection_invalid",
                      errors=[{"pointer": "/inspection", "detail": "passed, partial or failed"}])
    shipment = await get_shipment(session, shipment_id=draft.shipment_id, lock=True)
    await _check_receivable(shipment, actor)
    place = await place_at(session, location_id=draft.location_id)
    counted = _counted(draft, await _shipped_batches(session, shipment.id))
    parties = {"buyer_org_id": shipment.buyer_org_id, "supplier_org_id": shipment.supplier_org_id}
    receipt = GoodsReceipt(
        number=await next_number(session, actor=actor, kind="GR"), shipment_id=shipment.id,
        order_id=shipment.order_id, warehouse_id=place.warehouse_id, location_id=place.location_id,
        inspection=draft.inspection, notes=draft.notes, photos=list(draft.photos), received_at=utcnow(),
        received_by_user_id=actor.user_id, **parties)
    session.add(receipt)
    await flush_or_conflict(session, f"Shipment {shipment.number} has already been received.",
                            "shipment_already_received")
    materials = await materials_by_id(session, material_ids={c.shipped.line.material_id for c in counted})
    rows = []
    for count in counted:
        shipped, line = count.shipped, count.line
        rows.append(GoodsReceiptLine(
            receipt_id=receipt.id, shipment_line_id=shipped.line.id, order_line_id=shipped.line.order_line_id,
            material_id=shipped.line.material_id, batch=shipped.batch, accepted=line.accepted,
            rejected=line.rejected, unit=shipped.line.unit, rejection_reason=line.rejection_reason,
            serials=count.serials, **parties))
        material = materials[shipped.line.material_id]
        for put_away in stock_lines(material, replace(place, batch=shipped.batch), line.accepted, shipped.line.unit,
                                    count.serials):
            await add_stock(session, actor=actor, kind=MovementKind.RECEIPT, unit=material.base_unit, line=put_away,
                            reference=f"receipt:{receipt.id}")
    session.add_all(rows)
    shipment.status, shipment.received_at = ShipmentStatus.RECEIVED.value, receipt.received_at
    await session.flush()
    await record_milestone(session, actor=actor, shipment=shipment, topic="goods.received", biz_step="receiving",
                           disposition="in_progress" if draft.inspection == "passed" else "damaged", where=where,
                           extra=receipt_facts(receipt, rows))
    await _advance_order(session, actor=actor, order_id=shipment.order_id, note=receipt.number)
    return receipt


def receipt_facts(receipt: GoodsReceipt, rows: Sequence[GoodsReceiptLine]) -> dict[str, object]:
    """What settlement needs of a receipt: per order line and batch, accepted and rejected quantities."""
    return {"receipt_id": str(receipt.id), "receipt_number": receipt.number, "inspection": receipt.inspection,
            "lines": [{"order_line_id": str(r.order_line_id), "shipment_line_id": str(r.shipment_line_id),
                       "batch": r.batch, "accepted": str(r.accepted), "rejected": str(r.rejected), "unit": r.unit}
                      for r in rows]}


async def _advance_order(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, note: str) -> None:
    """A fully shipped order whose shipments are all in becomes ``received`` (the order's own step)."""
    order = await load_order(session, order_id, lock=True)
    if order.status != OrderStatus.SHIPPED:
        return
    outstanding = await session.scalar(select(func.count()).select_from(Shipment).where(
        Shipment.order_id == order.id, Shipment.status.in_((ShipmentStatus.DISPATCHED, ShipmentStatus.DELIVERED))))
    if outstanding == 0:
        await advance_order(session, actor=actor, order_id=order.id, expected_version=order.version,
                            action=SimpleStep.RECEIVE, note=note)


async def receipts_of_order(session: AsyncSession, *, order_id: uuid.UUID) -> list[GoodsReceipt]:
    query = select(GoodsReceipt).where(GoodsReceipt.order_id == order_id).order_by(GoodsReceipt.received_at)
    return list((await session.scalars(query)).all())


async def receipt_of_shipment(session: AsyncSession, *, shipment_id: uuid.UUID) -> GoodsReceipt:
    """The goods receipt of a shipment the caller takes part in."""
    receipt = await session.scalar(select(GoodsReceipt).where(GoodsReceipt.shipment_id == shipment_id))
    if receipt is None:
        raise NotFound("This shipment has not been received.", code="receipt_not_found")
    return receipt


async def receipt_lines(session: AsyncSession, *, receipt_id: uuid.UUID) -> list[GoodsReceiptLine]:
    query = select(GoodsReceiptLine).where(GoodsReceiptLine.receipt_id == receipt_id)
    return list((await session.scalars(query)).all())


PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 20


async def add_photo(session: AsyncSession, storage: AttachmentStorage, *, actor: Actor, receipt_id: uuid.UUID,
                    filename: str, content_type: str, content: bytes) -> GoodsReceipt:
    """The buyer adds an inspection photo to its receipt: stored by SHA-256 in the attachment storage, named
    in the receipt's ``photos`` (the only column of a receipt that ever changes)."""
    receipt = await session.scalar(select(GoodsReceipt).where(GoodsReceipt.id == receipt_id).with_for_update())
    if receipt is None or receipt.buyer_org_id != actor.org_id:
        raise NotFound("No such goods receipt of yours.", code="receipt_not_found")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type not in PHOTO_TYPES or not content:
        raise Invalid("A photo is a JPEG, PNG or WebP image.", code="receipt_photo_type_refused")
    if len(content) > MAX_PHOTO_BYTES or len(receipt.photos) >= MAX_PHOTOS:
        raise Invalid("At most 20 photos of 10 MiB each.", code="receipt_photo_too_large")
    key = (await storage.put(io.BytesIO(content))).key
    photo = {"key": key, "filename": filename.replace("\\", "/").rsplit("/", 1)[-1][:255] or "photo",
             "content_type": media_type, "size": len(content)}
    receipt.photos = [*receipt.photos, photo]
    await session.flush()
    await record_audit(session, actor=actor, action="goods_receipt.photo_added", object_type="goods_receipt",
                       object_id=receipt.id, details=photo)
    return receipt


async def photo_content(session: AsyncSession, storage: AttachmentStorage, *, receipt_id: uuid.UUID,
                        key: str) -> tuple[Iterator[bytes], str]:
    """A photo of a receipt the caller takes part in (buyer or supplier)."""
    receipt = await session.get(GoodsReceipt, receipt_id)
    photo = next((p for p in receipt.photos if p["key"] == key), None) if receipt else None
    if photo is None:
        raise NotFound("No such photo.", code="receipt_photo_not_found")
    return await storage.open(key), str(photo["content_type"])
