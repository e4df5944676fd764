"""Returns (RMA): the buyer asks to send back received goods with a reason, the supplier approves or refuses,
the buyer ships them back, the supplier confirms their arrival.

Status: requested → approved → shipped → received, or requested → refused. A return never asks for more of a
receipt line than was accepted less what earlier returns (not refused) already claim. When the supplier
confirms the goods are back, ``return.received`` carries the per-line quantities: settlement's trigger for a
credit note.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.models import GoodsReceipt, GoodsReceiptLine, ReturnRequest
from commerce.logistics.rules import checked_quantity
from commerce.logistics.service.numbers import next_number
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


async def _claimed(session: AsyncSession, receipt_id: uuid.UUID) -> dict[str, Decimal]:
    """Quantity per receipt line already claimed by this receipt's returns that were not refused."""
    claimed: dict[str, Decimal] = {}
    earlier: Sequence[list[dict[str, Any]]] = (await session.scalars(select(ReturnRequest.lines).where(
        ReturnRequest.receipt_id == receipt_id, ReturnRequest.status != "refused"))).all()
    for lines in earlier:
        for line in lines:
            claimed[line["receipt_line_id"]] = claimed.get(line["receipt_line_id"], Decimal(0)) + Decimal(
                line["quantity"])
    return claimed


def _checked_lines(drafts: Sequence[ReturnLineDraft], lines: dict[uuid.UUID, GoodsReceiptLine],
                   claimed: dict[str, Decimal]) -> list[dict[str, Any]]:
    if not drafts:
        raise Invalid("Say what goes back.", code="return_empty", errors=[{"pointer": "/lines"}])
    checked = []
    for index, draft in enumerate(drafts):
        pointer = f"/lines/{index}"
        line = lines.get(draft.receipt_line_id)
        if line is None:
            raise Invalid("Not a line of this receipt.", code="return_line_unknown", errors=[{"pointer": pointer}])
        checked_quantity(draft.quantity, line.unit, pointer=f"{pointer}/quantity")
        left = line.accepted - claimed.get(str(line.id), Decimal(0))
        if draft.quantity > left:
            raise Invalid(f"Only {left} {line.unit} of this line can still be returned.",
                          code="return_exceeds_receipt", errors=[{"pointer": f"{pointer}/quantity"}])
        claimed[str(line.id)] = claimed.get(str(line.id), Decimal(0)) + draft.quantity
        checked.append({"receipt_line_id": str(line.id), "order_line_id": str(line.order_line_id),
                        "batch": line.batch, "quantity": str(draft.quantity), "unit": line.unit})
    return checked


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
                         tracking_number: str | None = None) -> ReturnRequest:
    """One step of the return by the party whose step it is (see ``STEPS``)."""
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
    else:
        request.received_at = now
    await session.flush()
    await _record(session, actor, request, topic)
    return request


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
