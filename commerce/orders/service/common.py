"""What every order operation shares: loading an order for a party, and recording a step.

A step writes, in the caller's transaction: a timeline row, the outbox event, the audit entry, and for the
key steps (submitted, confirmed, cancelled) an evidence entry with the order number, totals and a digest of
the lines. A request that takes several steps (checkout: created, submitted, sent) captures each as a
``StepRecord`` when it happens and writes them together: one INSERT per table instead of one per step.
"""

import datetime as dt
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.orders.errors import OrderNotFound, TransitionNotAllowed, WrongParty
from commerce.orders.models import OrderEvent, OrderLine, PurchaseOrder
from commerce.orders.rules import Party, Step, party_of
from ledger.service import record_evidence
from tradeloom.audit import Actor, AuditNote, record_audits
from tradeloom.concurrency import check_version
from tradeloom.db import insert_rows, utcnow
from tradeloom.outbox.service import emit_many

EVIDENCE_TOPICS = frozenset({"order.submitted", "order.confirmed", "order.cancelled"})


async def load_order(session: AsyncSession, order_id: uuid.UUID, *, lock: bool = False) -> PurchaseOrder:
    """The order if the caller's organization is a party to it (RLS hides it otherwise: 404).

    ``lock`` takes the row lock first, so that of two concurrent steps the second reads the first's result
    (and fails its version check) instead of racing it.
    """
    query = select(PurchaseOrder).where(PurchaseOrder.id == order_id)
    if lock:
        query = query.with_for_update()
    order = await session.scalar(query)
    if order is None:
        raise OrderNotFound("No such purchase order.")
    return order


async def order_lines(session: AsyncSession, order_id: uuid.UUID) -> list[OrderLine]:
    query = select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.line_no)
    return list((await session.scalars(query)).all())


def check_party(order: PurchaseOrder, actor: Actor, party: Party) -> None:
    if party_of(actor.org_id, buyer_org_id=order.buyer_org_id, supplier_org_id=order.supplier_org_id) != party:
        raise WrongParty(f"Only the {party.value} of order {order.number} may do this.")


async def begin_step(
    session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, expected_version: int, step: Step
) -> PurchaseOrder:
    """Lock the order, then check party, version and status, in that order (wrong party before stale)."""
    order = await load_order(session, order_id, lock=True)
    check_party(order, actor, step.party)
    check_version(order.version, expected_version)
    if order.status not in step.sources:
        raise TransitionNotAllowed(
            f"Order {order.number} is {order.status}; '{step.action}' needs it to be "
            f"{' or '.join(sorted(step.sources))}."
        )
    return order


class PlacedLine(NamedTuple):
    """A line just written, as the database stored it (numbers at their column's scale): what the steps read."""

    line_no: int
    material_code: str
    material_class: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    tax_rate: str
    gross: Decimal
    confirmed_quantity: Decimal | None
    confirmed_date: dt.date | None


# What a step reads of an order's lines (the digest's fields, the class for approval rules).
LineFacts = OrderLine | PlacedLine


def lines_digest(lines: Sequence[LineFacts]) -> str:
    """SHA-256 over each line's material, quantity, unit, price, tax rate and confirmed figures."""
    digest = hashlib.sha256()
    for line in lines:
        confirmed = "" if line.confirmed_quantity is None else _plain(line.confirmed_quantity)
        digest.update("|".join((
            str(line.line_no), line.material_code, _plain(line.quantity), line.unit, _plain(line.unit_price),
            line.tax_rate, _plain(line.gross), confirmed, str(line.confirmed_date or ""),
        )).encode() + b"\n")
    return digest.hexdigest()


def order_facts(order: PurchaseOrder) -> dict[str, Any]:
    """The event payload every order topic carries."""
    return {
        "order_id": str(order.id), "number": order.number, "buyer_org_id": str(order.buyer_org_id),
        "supplier_org_id": str(order.supplier_org_id), "status": order.status, "version": order.version,
        "currency": order.currency, "net_total": _plain(order.net_total), "tax_total": _plain(order.tax_total),
        "gross_total": _plain(order.gross_total),
    }


def _plain(value: Decimal) -> str:
    """The exact value as text, without padding zeros: the same for 12.3400 and 12.34."""
    return format(value.normalize(), "f")


@dataclass(frozen=True)
class StepRecord:
    """One step as it happened: its timeline row, event payload and (key steps) evidence payload, captured at
    the step and written by ``write_steps`` together with the other steps of the same request."""

    topic: str
    event_row: dict[str, Any]
    payload: dict[str, Any]
    note: str | None
    evidence: dict[str, Any] | None


async def step_record(
    session: AsyncSession, *, actor: Actor, order: PurchaseOrder, topic: str, from_status: str | None,
    note: str | None = None, details: dict[str, Any] | None = None, lines: Sequence[LineFacts] | None = None,
) -> StepRecord:
    """The records of a change already flushed, as the order stands now (not yet written)."""
    evidence = None
    if topic in EVIDENCE_TOPICS:
        evidence_lines = lines if lines is not None else await order_lines(session, order.id)
        evidence = order_facts(order) | {"lines_digest": lines_digest(evidence_lines)}
    event_row = {
        "order_id": order.id, "buyer_org_id": order.buyer_org_id, "supplier_org_id": order.supplier_org_id,
        "at": utcnow(), "actor_org_id": actor.org_id, "actor_user_id": actor.user_id, "kind": topic,
        "from_status": from_status, "to_status": order.status, "order_version": order.version, "note": note,
        "details": details or {},
    }
    return StepRecord(topic=topic, event_row=event_row, payload=order_facts(order) | (details or {}), note=note,
                      evidence=evidence)


async def write_steps(session: AsyncSession, *, actor: Actor, steps: Sequence[StepRecord]) -> None:
    """Timeline rows, outbox events and audit entries of the steps (one INSERT per table), and their evidence."""
    await insert_rows(session, OrderEvent, [step.event_row for step in steps])
    await emit_many(session, org_id=actor.org_id, events=[(step.topic, step.payload) for step in steps])
    await record_audits(session, actor=actor, notes=[
        AuditNote(step.topic, "purchase_order", step.event_row["order_id"],
                  step.payload | ({"note": step.note} if step.note else {}))
        for step in steps
    ])
    for step in steps:
        if step.evidence is not None:
            await record_evidence(session, org_id=actor.org_id, kind=step.topic,
                                  subject=f"order:{step.event_row['order_id']}", payload=step.evidence)


async def record_step(
    session: AsyncSession, *, actor: Actor, order: PurchaseOrder, topic: str, from_status: str | None,
    note: str | None = None, details: dict[str, Any] | None = None, lines: Sequence[OrderLine] | None = None,
) -> None:
    """Timeline row, outbox event, audit entry (and evidence for key steps) for a change already flushed."""
    step = await step_record(session, actor=actor, order=order, topic=topic, from_status=from_status, note=note,
                             details=details, lines=lines)
    await write_steps(session, actor=actor, steps=[step])
