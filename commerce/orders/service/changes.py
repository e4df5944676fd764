"""Change orders: after the supplier has committed, either party proposes new quantities or dates; the order
changes only when the other party accepts. One open proposal at a time; each gets the next revision; the
proposer may withdraw it while it is open."""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.orders.errors import InvalidOrderLine, TransitionNotAllowed, WrongParty
from commerce.orders.models import ChangeOrder, OrderLine, PurchaseOrder
from commerce.orders.rules import CHANGEABLE, TaxRate, is_whole_quantity, line_amounts, order_totals, party_of
from commerce.orders.schemas import LineChange
from commerce.orders.service.common import load_order, order_lines, record_step
from tradeloom.audit import Actor
from tradeloom.concurrency import check_version
from tradeloom.db import utcnow
from tradeloom.errors import Conflict, NotFound


@dataclass(frozen=True)
class ChangeDecision:
    order: PurchaseOrder
    change_order: ChangeOrder


def _check_changes(lines: Sequence[OrderLine], changes: Sequence[LineChange]) -> list[dict[str, str | None]]:
    by_id = {line.id: line for line in lines}
    seen: set[uuid.UUID] = set()
    stored = []
    for index, change in enumerate(changes):
        line = by_id.get(change.line_id)
        problem = (
            "not a line of this order" if line is None or change.line_id in seen
            else "change a quantity or a date" if change.quantity is None and change.requested_date is None
            else f"{line.unit} is counted in whole units"
            if change.quantity is not None and not is_whole_quantity(line.unit, change.quantity) else None
        )
        if problem:
            raise InvalidOrderLine(f"Change line {index + 1}: {problem}.", code="order_change_invalid",
                                   errors=[{"pointer": f"/lines/{index}", "detail": problem}])
        seen.add(change.line_id)
        stored.append({"line_id": str(change.line_id),
                       "quantity": None if change.quantity is None else format(change.quantity.normalize(), "f"),
                       "requested_date": change.requested_date.isoformat() if change.requested_date else None})
    return stored


async def propose_change(
    session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, expected_version: int, reason: str,
    changes: Sequence[LineChange],
) -> ChangeOrder:
    """Either party proposes new quantities or dates for a confirmed order (If-Match on the order)."""
    order = await load_order(session, order_id, lock=True)
    check_version(order.version, expected_version)
    if order.status not in CHANGEABLE:
        raise TransitionNotAllowed(f"Order {order.number} is {order.status}; change orders need it confirmed or "
                                   "in production.")
    pending = await session.scalar(select(ChangeOrder.id).where(ChangeOrder.order_id == order.id,
                                                                ChangeOrder.status == "proposed"))
    if pending is not None:
        raise Conflict("A change order is already waiting for an answer.", code="order_change_pending")
    stored = _check_changes(await order_lines(session, order.id), changes)
    revision = await session.scalar(select(func.count()).where(ChangeOrder.order_id == order.id))
    change_order = ChangeOrder(
        order_id=order.id, buyer_org_id=order.buyer_org_id, supplier_org_id=order.supplier_org_id,
        revision=int(revision or 0) + 1, proposed_by_org_id=actor.org_id, proposed_by_user_id=actor.user_id,
        status="proposed", reason=reason, line_changes=stored,
    )
    session.add(change_order)
    await session.flush()
    await record_step(session, actor=actor, order=order, topic="order.change_proposed", from_status=order.status,
                      note=reason, details={"revision": change_order.revision})
    return change_order


async def _open_change(
    session: AsyncSession, actor: Actor, order_id: uuid.UUID, change_id: uuid.UUID, expected_version: int,
    *, by_proposer: bool = False,
) -> ChangeDecision:
    """Lock order and change order, then check party (the other one, or the proposer), version and status."""
    order = await load_order(session, order_id, lock=True)
    change_order = await session.get(ChangeOrder, change_id, with_for_update=True)
    if change_order is None or change_order.order_id != order.id:
        raise NotFound("No such change order.", code="order_change_not_found")
    if party_of(actor.org_id, buyer_org_id=order.buyer_org_id, supplier_org_id=order.supplier_org_id) is None \
            or (change_order.proposed_by_org_id == actor.org_id) != by_proposer:
        raise WrongParty("Only the proposer withdraws a change order." if by_proposer
                         else "The other party answers a change order, not the one who proposed it.")
    check_version(order.version, expected_version)
    if change_order.status != "proposed":
        raise TransitionNotAllowed(f"Change order {change_order.revision} is already {change_order.status}.")
    return ChangeDecision(order, change_order)


async def accept_change(
    session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, change_id: uuid.UUID, expected_version: int
) -> ChangeDecision:
    """The other party agrees: lines take the new quantities/dates (as ordered and as confirmed), totals follow."""
    decision = await _open_change(session, actor, order_id, change_id, expected_version)
    order, change_order = decision.order, decision.change_order
    lines = {line.id: line for line in await order_lines(session, order.id)}
    for change in change_order.line_changes:
        line = lines[uuid.UUID(str(change["line_id"]))]
        if change["quantity"] is not None:
            line.quantity = line.confirmed_quantity = Decimal(change["quantity"])
        if change["requested_date"] is not None:
            line.requested_date = line.confirmed_date = dt.date.fromisoformat(change["requested_date"])
    amounts = []
    for line in lines.values():
        amount = line_amounts(line.confirmed_quantity if line.confirmed_quantity is not None else line.quantity,
                              line.unit_price, TaxRate(line.tax_rate))
        line.net, line.tax, line.gross = amount.net, amount.tax, amount.gross
        amounts.append(amount)
    totals = order_totals(amounts)
    order.net_total, order.tax_total, order.gross_total = totals.net, totals.tax, totals.gross
    change_order.status, change_order.decided_at = "accepted", utcnow()
    await session.flush()
    await record_step(session, actor=actor, order=order, topic="order.changed", from_status=order.status,
                      details={"revision": change_order.revision}, lines=list(lines.values()))
    return decision


async def _close_change(session: AsyncSession, actor: Actor, decision: ChangeDecision, status: str,
                        topic: str) -> ChangeDecision:
    """Close the change order unapplied; bumps the order's version: the answer is part of its history."""
    decision.change_order.status, decision.change_order.decided_at = status, utcnow()
    decision.order.updated_at = utcnow()
    await session.flush()
    await record_step(session, actor=actor, order=decision.order, topic=topic, from_status=decision.order.status,
                      details={"revision": decision.change_order.revision})
    return decision


async def decline_change(
    session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, change_id: uuid.UUID, expected_version: int
) -> ChangeDecision:
    """The other party refuses: the order stays as it was."""
    decision = await _open_change(session, actor, order_id, change_id, expected_version)
    return await _close_change(session, actor, decision, "declined", "order.change_declined")


async def withdraw_change(
    session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, change_id: uuid.UUID, expected_version: int
) -> ChangeDecision:
    """The proposer takes back a change order nobody has answered yet: the order stays as it was."""
    decision = await _open_change(session, actor, order_id, change_id, expected_version, by_proposer=True)
    return await _close_change(session, actor, decision, "withdrawn", "order.change_withdrawn")


async def list_changes(session: AsyncSession, *, order_id: uuid.UUID) -> list[ChangeOrder]:
    await load_order(session, order_id)
    query = select(ChangeOrder).where(ChangeOrder.order_id == order_id).order_by(ChangeOrder.revision)
    return list((await session.scalars(query)).all())


async def awaiting_answer(session: AsyncSession, *, actor: Actor,
                          limit: int = 100) -> list[tuple[ChangeOrder, PurchaseOrder]]:
    """Open change orders the actor's organization must answer (the other party proposed them), oldest first."""
    query = (select(ChangeOrder, PurchaseOrder)
             .join(PurchaseOrder, ChangeOrder.order_id == PurchaseOrder.id)
             .where(ChangeOrder.status == "proposed", ChangeOrder.proposed_by_org_id != actor.org_id,
                    or_(PurchaseOrder.buyer_org_id == actor.org_id, PurchaseOrder.supplier_org_id == actor.org_id))
             .order_by(ChangeOrder.created_at).limit(limit))
    return [(change_order, order) for change_order, order in (await session.execute(query)).all()]
