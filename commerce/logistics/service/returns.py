"""Returns (RMA): the buyer asks to send back received goods with a reason, the supplier approves or refuses,
the buyer ships them back, the supplier confirms their arrival.

Status: requested → approved → shipped → received, or requested → refused. A return never asks for more of a
receipt line than was accepted less what earlier returns (not refused) already claim. When the supplier
confirms the goods are back, ``return.received`` carries the per-line quantities: settlement's trigger for a
credit note.

Stock moves with the goods, through the movement log like every other change: shipping back issues the
returned batches (or serials) from the buyer's warehouse location the receipt put them in; the supplier's
confirmation posts them into its warehouse (receipt movements, reason ``return``) at the location it names, or
where they were picked from. Both in the step's transaction: a step taken twice is refused before anything moves.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.service.materials import materials_by_id
from commerce.logistics.models import GoodsReceipt, GoodsReceiptLine, ReturnRequest, ShipmentItem
from commerce.logistics.rules import MovementKind, checked_quantity
from commerce.logistics.service.numbers import next_number
from commerce.logistics.service.stock import StockLine, StockPlace, add_stock, place_at, stock_lines, take_stock
from ledger.service import record_evidence
from tradeloom.audit import Actor, record_audit
from tradeloom.concurrency import check_version
from tradeloom.db import utcnow
from tradeloom.errors import Conflict, Forbidden, Invalid, NotFound
from tradeloom.outbox.service import emit

# (action, party, from status, to status, topic)
STEPS = {
    "approve": ("supplier", "requested", "approved", "return.approved"),
    "refuse": ("supplier", "requested", "refused", "return.refused"),
    "ship": ("buyer", "approved", "shipped", "return.shipped"),
    "receive": ("supplier", "shipped", "received", "return.received"),
}


@dataclass(frozen=True)
class ReturnLineDraft:
    receipt_line_id: uuid.UUID
    quantity: Decimal
    serials: Sequence[str] = ()  # serial-tracked goods: which accepted pieces go back (as many as the quantity)


@dataclass
class Claimed:
    """What this receipt's returns (not refused) already claim per receipt line: quantity and serials."""

    quantities: dict[str, Decimal] = field(default_factory=dict)
    serials: set[tuple[str, str]] = field(default_factory=set)

    def add(self, receipt_line_id: str, quantity: Decimal, serials: Sequence[str]) -> None:
        self.quantities[receipt_line_id] = self.quantities.get(receipt_line_id, Decimal(0)) + quantity
        self.serials.update((receipt_line_id, serial) for serial in serials)

    def left(self, line: GoodsReceiptLine) -> Decimal:
        return line.accepted - self.quantities.get(str(line.id), Decimal(0))


async def _claimed(session: AsyncSession, receipt_id: uuid.UUID) -> Claimed:
    claimed = Claimed()
    earlier: Sequence[list[dict[str, Any]]] = (await session.scalars(select(ReturnRequest.lines).where(
        ReturnRequest.receipt_id == receipt_id, ReturnRequest.status != "refused"))).all()
    for lines in earlier:
        for line in lines:
            claimed.add(line["receipt_line_id"], Decimal(line["quantity"]), line.get("serials", []))
    return claimed


def _check_serials(draft: ReturnLineDraft, line: GoodsReceiptLine, claimed: Claimed, pointer: str) -> None:
    """Serial-tracked goods go back by serial: accepted ones of this line, not yet claimed, one per piece."""
    if not line.serials and not draft.serials:
        return
    serials = set(draft.serials)
    free = {serial for serial in line.serials if (str(line.id), serial) not in claimed.serials}
    if not serials or len(serials) != len(draft.serials) or not serials <= free or len(serials) != draft.quantity:
        raise Invalid("Name each returned piece by an accepted serial number not yet returned."
                      if line.serials else "These goods carry no serial numbers.",
                      code="return_serials_mismatch", errors=[{"pointer": f"{pointer}/serials"}])


def _checked_lines(drafts: Sequence[ReturnLineDraft], lines: dict[uuid.UUID, GoodsReceiptLine],
                   claimed: Claimed) -> list[dict[str, Any]]:
    if not drafts:
        raise Invalid("Say what goes back.", code="return_empty", errors=[{"pointer": "/lines"}])
    checked = []
    for index, draft in enumerate(drafts):
        pointer = f"/lines/{index}"
        line = lines.get(draft.receipt_line_id)
        if line is None:
            raise Invalid("Not a line of this receipt.", code="return_line_unknown", errors=[{"pointer": pointer}])
        checked_quantity(draft.quantity, line.unit, pointer=f"{pointer}/quantity")
        if draft.quantity > claimed.left(line):
            raise Invalid(f"Only {claimed.left(line)} {line.unit} of this line can still be returned.",
                          code="return_exceeds_receipt", errors=[{"pointer": f"{pointer}/quantity"}])
        _check_serials(draft, line, claimed, pointer)
        claimed.add(str(line.id), draft.quantity, draft.serials)
        checked.append({"receipt_line_id": str(line.id), "order_line_id": str(line.order_line_id),
                        "batch": line.batch, "serials": sorted(draft.serials), "quantity": str(draft.quantity),
                        "unit": line.unit})
    return checked


async def returnable_lines(session: AsyncSession, *, receipt_id: uuid.UUID) -> list[tuple[GoodsReceiptLine, Decimal]]:
    """The receipt's lines with what can still be returned of each (for the buyer's return form)."""
    claimed = await _claimed(session, receipt_id)
    lines = await session.scalars(select(GoodsReceiptLine).where(GoodsReceiptLine.receipt_id == receipt_id)
                                  .order_by(GoodsReceiptLine.batch))
    return [(line, claimed.left(line)) for line in lines]


async def request_return(session: AsyncSession, *, actor: Actor, receipt_id: uuid.UUID, reason: str,
                         lines: Sequence[ReturnLineDraft]) -> ReturnRequest:
    """The buyer asks to return accepted goods of one of its receipts."""
    receipt = await session.get(GoodsReceipt, receipt_id)
    if receipt is None or receipt.buyer_org_id != actor.org_id:
        raise NotFound("No such goods receipt of yours.", code="receipt_not_found")
    receipt_lines = {line.id: line for line in await session.scalars(
        select(GoodsReceiptLine).where(GoodsReceiptLine.receipt_id == receipt.id))}
    checked = _checked_lines(lines, receipt_lines, await _claimed(session, receipt.id))
    request = ReturnRequest(number=await next_number(session, actor=actor, kind="RMA"), receipt_id=receipt.id,
                            order_id=receipt.order_id, buyer_org_id=receipt.buyer_org_id,
                            supplier_org_id=receipt.supplier_org_id, reason=reason, lines=checked)
    session.add(request)
    await session.flush()
    await _record(session, actor, request, "return.requested")
    return request


async def get_return(session: AsyncSession, *, return_id: uuid.UUID, lock: bool = False) -> ReturnRequest:
    query = select(ReturnRequest).where(ReturnRequest.id == return_id)
    found = await session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound("No such return.", code="return_not_found")
    return found


async def advance_return(session: AsyncSession, *, actor: Actor, return_id: uuid.UUID, action: str,
                         expected_version: int, note: str | None = None, carrier_name: str | None = None,
                         tracking_number: str | None = None, location_id: uuid.UUID | None = None) -> ReturnRequest:
    """One step of the return by the party whose step it is (see ``STEPS``); ``location_id``: where the
    supplier puts the returned goods (default: where they were picked from)."""
    if action not in STEPS:
        raise Invalid(f"'{action}' is not a return step.", code="return_step_unknown")
    party, source, target, topic = STEPS[action]
    request = await get_return(session, return_id=return_id, lock=True)
    if actor.org_id != (request.supplier_org_id if party == "supplier" else request.buyer_org_id):
        raise Forbidden(f"Only the {party} of return {request.number} may {action} it.", code="return_wrong_party")
    check_version(request.version, expected_version)
    if request.status != source:
        raise Conflict(f"Return {request.number} is {request.status}; '{action}' needs it {source}.",
                       code="return_transition_not_allowed")
    request.status = target
    now = utcnow()
    if action in ("approve", "refuse"):
        request.decided_at, request.supplier_note = now, note
    elif action == "ship":
        request.shipped_at, request.carrier_name, request.tracking_number = now, carrier_name, tracking_number
        await _send_back(session, actor, request)
    else:
        request.received_at = now
        await _take_back(session, actor, request, location_id)
    await session.flush()
    await _record(session, actor, request, topic)
    return request


@dataclass(frozen=True)
class Returned:
    """Returned goods as one stock line (in the base ``unit``) at the buyer's receiving location."""

    receipt_line: GoodsReceiptLine
    line: StockLine
    unit: str


async def _returned_stock(session: AsyncSession, request: ReturnRequest) -> list[Returned]:
    """The returned goods per batch or serial, as they lie in the buyer's warehouse."""
    receipt = await session.get(GoodsReceipt, request.receipt_id)
    assert receipt is not None  # a return always has its receipt (foreign key)
    place = StockPlace(receipt.warehouse_id, receipt.location_id)
    lines = {str(line.id): line for line in await session.scalars(
        select(GoodsReceiptLine).where(GoodsReceiptLine.receipt_id == receipt.id))}
    materials = await materials_by_id(session, material_ids={line.material_id for line in lines.values()})
    moved = []
    for returned in request.lines:
        line = lines[returned["receipt_line_id"]]
        material = materials[line.material_id]
        moved += [Returned(line, stock_line, material.base_unit) for stock_line in stock_lines(
            material, replace(place, batch=line.batch), Decimal(returned["quantity"]), line.unit,
            returned.get("serials", []))]
    return moved


async def _send_back(session: AsyncSession, actor: Actor, request: ReturnRequest) -> None:
    """The buyer ships the goods back: they leave its shelf (refused as a whole if they are no longer there)."""
    for returned in await _returned_stock(session, request):
        await take_stock(session, actor=actor, kind=MovementKind.ISSUE, line=returned.line, unit=returned.unit,
                         reason="return", reference=f"return:{request.id}")


async def _take_back(session: AsyncSession, actor: Actor, request: ReturnRequest,
                     location_id: uuid.UUID | None) -> None:
    """The supplier puts the returned goods into its warehouse: at ``location_id`` (one of its own), else at the
    location each batch or serial was picked from."""
    chosen = await place_at(session, location_id=location_id) if location_id else None
    for returned in await _returned_stock(session, request):
        line = returned.line
        target = chosen or await place_at(session, location_id=await _picked_from(
            session, returned.receipt_line, line.place.serial))
        await add_stock(session, actor=actor, kind=MovementKind.RECEIPT, unit=returned.unit,
                        line=replace(line, place=replace(target, batch=line.place.batch, serial=line.place.serial)),
                        reason="return", reference=f"return:{request.id}")


async def _picked_from(session: AsyncSession, receipt_line: GoodsReceiptLine, serial: str) -> uuid.UUID:
    location_id = await session.scalar(select(ShipmentItem.location_id).where(
        ShipmentItem.shipment_line_id == receipt_line.shipment_line_id, ShipmentItem.batch == receipt_line.batch,
        ShipmentItem.serial == serial).limit(1))
    assert location_id is not None  # every receipt line and serial comes from a shipped item
    return location_id


async def _record(session: AsyncSession, actor: Actor, request: ReturnRequest, topic: str) -> None:
    facts = {"return_id": str(request.id), "number": request.number, "order_id": str(request.order_id),
             "receipt_id": str(request.receipt_id), "buyer_org_id": str(request.buyer_org_id),
             "supplier_org_id": str(request.supplier_org_id), "status": request.status, "reason": request.reason,
             "lines": request.lines}
    await emit(session, org_id=actor.org_id, topic=topic, payload=facts)
    await record_audit(session, actor=actor, action=topic, object_type="return", object_id=request.id, details=facts)
    if topic == "return.received":
        await record_evidence(session, org_id=actor.org_id, kind=topic, subject=f"return:{request.id}", payload=facts)


async def list_returns(session: AsyncSession) -> list[ReturnRequest]:
    """Returns the caller's organization takes part in, newest first."""
    return list((await session.scalars(select(ReturnRequest).order_by(ReturnRequest.created_at.desc())
                                       .limit(200))).all())
