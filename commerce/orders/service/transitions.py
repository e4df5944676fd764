"""Moving an order through its life: each step checks party, version and status (``begin_step``), changes
the order, and records the step (timeline, outbox, audit, evidence) in the caller's transaction."""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from commerce import payment_port
from commerce.orders.errors import InvalidOrderLine
from commerce.orders.models import OrderApproval, OrderLine, PurchaseOrder
from commerce.orders.rules import (
    CANCEL,
    RELEASES_BUDGET,
    STEPS,
    OrderStatus,
    RuleView,
    SimpleStep,
    TaxRate,
    approvals_needed,
    is_whole_quantity,
    line_amounts,
    order_totals,
)
from commerce.orders.service.budgets import active_rules, release_budget, reserve_budget
from commerce.orders.service.common import (
    LineFacts,
    StepRecord,
    begin_step,
    order_lines,
    record_step,
    step_record,
    write_steps,
)
from tradeloom.audit import Actor
from tradeloom.db import utcnow
from tradeloom.errors import Conflict, Forbidden, Invalid


@dataclass(frozen=True)
class LineConfirmationDraft:
    line_id: uuid.UUID
    quantity: Decimal
    date: dt.date | None = None


async def _move(session: AsyncSession, order: PurchaseOrder, target: OrderStatus) -> str:
    previous = order.status
    order.status = target.value
    if target in RELEASES_BUDGET:
        await release_budget(session, order)
    await session.flush()
    return previous


async def submit_order(
    session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, expected_version: int, note: str | None = None
) -> PurchaseOrder:
    """Submit a draft: reserve its cost-centre budget, work out the approvals it needs (none: it is sent)."""
    order = await begin_step(session, actor=actor, order_id=order_id, expected_version=expected_version,
                             step=STEPS["submit"])
    lines = await order_lines(session, order.id)
    await write_steps(session, actor=actor, steps=await submit_steps(session, actor=actor, order=order, lines=lines,
                                                                     note=note))
    return order


async def submit_steps(
    session: AsyncSession, *, actor: Actor, order: PurchaseOrder, lines: Sequence[LineFacts], note: str | None = None,
    rules: Sequence[RuleView] | None = None,
) -> list[StepRecord]:
    """Submit a draft the caller has checked (``begin_step``) or placed in this transaction; the steps taken
    (submitted, and sent when no approval is needed) are returned for the caller to write. ``rules`` are the
    buyer's active approval rules in the order's currency when the caller has read them already."""
    if rules is None:
        rules = await active_rules(session, org_id=order.buyer_org_id, currency=order.currency)
    order.approvals_required = approvals_needed(rules, currency=order.currency, gross=order.gross_total,
                                                classes={line.material_class for line in lines})
    order.approvals_given = 0
    await reserve_budget(session, order)
    previous = await _move(session, order, OrderStatus.SUBMITTED)
    steps = [await step_record(session, actor=actor, order=order, topic="order.submitted", from_status=previous,
                               note=note, details={"approvals_required": order.approvals_required}, lines=lines)]
    if order.approvals_required == 0:
        steps.append(await _send(session, actor, order))
    return steps


async def _send(session: AsyncSession, actor: Actor, order: PurchaseOrder) -> StepRecord:
    previous = await _move(session, order, OrderStatus.SENT)
    return await step_record(session, actor=actor, order=order, topic="order.sent", from_status=previous)


async def approve_order(
    session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, expected_version: int, note: str | None = None
) -> PurchaseOrder:
    """One approver's approval; the last one needed sends the order to the supplier."""
    order = await begin_step(session, actor=actor, order_id=order_id, expected_version=expected_version,
                             step=STEPS["approve"])
    if actor.user_id is None:
        raise Forbidden("An approval is given by a person, not an API key.", code="order_approver_required")
    if actor.user_id == order.created_by_user_id:
        raise Forbidden(f"You placed order {order.number}; someone else must approve it.",
                        code="order_own_approval")
    recorded = await session.scalar(
        pg_insert(OrderApproval)
        .values(order_id=order.id, approver_user_id=actor.user_id, org_id=order.buyer_org_id,
                step=order.approvals_given + 1, at=utcnow())
        .on_conflict_do_nothing()
        .returning(OrderApproval.step)
    )
    if recorded is None:
        raise Conflict("You have already approved this order.", code="order_already_approved_by_you")
    order.approvals_given += 1
    await session.flush()
    steps = [await step_record(session, actor=actor, order=order, topic="order.approved", from_status=order.status,
                               note=note, details={"step": order.approvals_given, "of": order.approvals_required})]
    if order.approvals_given >= order.approvals_required:
        steps.append(await _send(session, actor, order))
    await write_steps(session, actor=actor, steps=steps)
    return order


async def reject_approval(
    session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, expected_version: int, note: str | None = None
) -> PurchaseOrder:
    """An approver sends the order back to draft; approvals given so far no longer count."""
    order = await begin_step(session, actor=actor, order_id=order_id, expected_version=expected_version,
                             step=STEPS["reject-approval"])
    if actor.user_id == order.created_by_user_id:
        raise Forbidden(f"You placed order {order.number}; cancel it instead.", code="order_own_approval")
    await session.execute(delete(OrderApproval).where(OrderApproval.order_id == order.id))
    order.approvals_given = 0
    previous = await _move(session, order, OrderStatus.DRAFT)
    await record_step(session, actor=actor, order=order, topic="order.approval_rejected", from_status=previous,
                      note=note)
    return order


def _confirmed_lines(
    lines: Sequence[OrderLine], changes: Sequence[LineConfirmationDraft]
) -> list[tuple[OrderLine, Decimal, dt.date | None]]:
    """Each line with the quantity and date the supplier commits to (as ordered unless named)."""
    by_id = {line.id: line for line in lines}
    named: dict[uuid.UUID, LineConfirmationDraft] = {}
    for index, change in enumerate(changes):
        line = by_id.get(change.line_id)
        problem = (
            "not a line of this order" if line is None or change.line_id in named
            else "confirmed quantity cannot exceed the ordered quantity" if change.quantity > line.quantity
            else "confirmed quantity cannot be negative" if change.quantity < 0
            else f"{line.unit} is counted in whole units" if not is_whole_quantity(line.unit, change.quantity)
            else None
        )
        if problem:
            raise InvalidOrderLine(f"Confirmation line {index + 1}: {problem}.", code="order_confirmation_invalid",
                                   errors=[{"pointer": f"/lines/{index}", "detail": problem}])
        named[change.line_id] = change
    return [
        (line, named[line.id].quantity, named[line.id].date or line.requested_date) if line.id in named
        else (line, line.quantity, line.requested_date)
        for line in lines
    ]


async def confirm_order(
    session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, expected_version: int,
    lines: Sequence[LineConfirmationDraft] = (), note: str | None = None,
) -> PurchaseOrder:
    """The supplier commits: fully, or with changed quantities/dates per line (amounts follow the confirmed
    quantities; the ordered quantity stays on the line)."""
    order = await begin_step(session, actor=actor, order_id=order_id, expected_version=expected_version,
                             step=STEPS["confirm"])
    current = await order_lines(session, order.id)
    confirmed = _confirmed_lines(current, lines)
    if all(quantity == 0 for _, quantity, _ in confirmed):
        raise Invalid("Confirming nothing is a rejection: reject the order instead.", code="order_confirmation_empty")
    partial = any(quantity != line.quantity or date != line.requested_date for line, quantity, date in confirmed)
    amounts = [line_amounts(quantity, line.unit_price, TaxRate(line.tax_rate)) for line, quantity, _ in confirmed]
    await session.execute(update(OrderLine), [
        {"id": line.id, "confirmed_quantity": quantity, "confirmed_date": date, "net": amount.net, "tax": amount.tax,
         "gross": amount.gross}
        for (line, quantity, date), amount in zip(confirmed, amounts, strict=True)
    ])
    totals = order_totals(amounts)
    order.net_total, order.tax_total, order.gross_total = totals.net, totals.tax, totals.gross
    order.confirmation = "partial" if partial else "full"
    previous = await _move(session, order, OrderStatus.CONFIRMED)
    await record_step(session, actor=actor, order=order, topic="order.confirmed", from_status=previous, note=note,
                      details={"confirmation": order.confirmation},
                      lines=await order_lines(session, order.id))
    return order


async def reject_order(
    session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, expected_version: int, note: str | None = None
) -> PurchaseOrder:
    """The supplier declines the order (the buyer's budget reservation is released)."""
    order = await begin_step(session, actor=actor, order_id=order_id, expected_version=expected_version,
                             step=STEPS["reject"])
    previous = await _move(session, order, OrderStatus.REJECTED)
    await record_step(session, actor=actor, order=order, topic="order.rejected", from_status=previous, note=note)
    return order


async def cancel_order(
    session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, expected_version: int, note: str | None = None
) -> PurchaseOrder:
    """The buyer cancels until the supplier has confirmed; after that only an agreed change order reduces it."""
    order = await begin_step(session, actor=actor, order_id=order_id, expected_version=expected_version, step=CANCEL)
    previous = await _move(session, order, OrderStatus.CANCELLED)
    await record_step(session, actor=actor, order=order, topic="order.cancelled", from_status=previous, note=note)
    return order


async def advance_order(
    session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, expected_version: int, action: SimpleStep,
    note: str | None = None,
) -> PurchaseOrder:
    """Production, shipping, receipt and closing: the step's party moves the order on (if the payment terms let
    it: settlement's gate, through ``commerce.payment_port``, refuses shipping before the prepayment is paid)."""
    step = STEPS[action.value]
    order = await begin_step(session, actor=actor, order_id=order_id, expected_version=expected_version, step=step)
    await payment_port.check_step(session, order=payment_port.OrderFacts(
        id=order.id, number=order.number, buyer_org_id=order.buyer_org_id, supplier_org_id=order.supplier_org_id,
        currency=order.currency, gross_total=order.gross_total, payment_terms=order.payment_terms),
        action=step.action)
    previous = await _move(session, order, step.target)
    await record_step(session, actor=actor, order=order, topic=step.topic, from_status=previous, note=note)
    return order
