"""Collaborative manufacturing: production orders for confirmed order lines, driven by device telemetry.

A supplier links a confirmed purchase-order line to its devices at a work centre. The bridge calls
``apply_telemetry`` in each batch's transaction: good-part counter readings are stored once per
(order, device, timestamp, seq) — a replayed or duplicated message inserts nothing — and ``completed`` is then
recomputed from the stored readings (the sum of each device's increases; a counter reset counts from zero), so
the result does not depend on how often a message arrived. The run/idle/down state is the newest one seen.
Start and finish are recorded as EPCIS TransformationEvents (``ledger.epcis``), which also enter the evidence
log.
"""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.orders.models import OrderLine, PurchaseOrder
from commerce.orders.rules import OrderStatus
from iot_bridge import quality
from iot_bridge.device_types import load_device_types
from iot_bridge.epcis_events import capture_event
from iot_bridge.models import Device, ProductionCount, ProductionOrder, ProductionStatus
from iot_bridge.telemetry import TelemetryRow
from tradeloom.audit import Actor, record_audit
from tradeloom.db import utcnow
from tradeloom.errors import Conflict, Invalid, NotFound
from tradeloom.outbox.service import emit

RATE_WINDOW = dt.timedelta(minutes=15)
# A good-part counter counts from 0 and, stored as a double, exactly up to 2**53: readings outside are no
# machine's and are passed over (one of 2**63 failed the bigint column, and with it the bridge's batch).
MOST_GOOD_PARTS = 2**53


@dataclass(frozen=True)
class Progress:
    """What the buyer's order page and the supplier's production page show."""

    id: uuid.UUID
    order_id: uuid.UUID
    line_no: int
    material_code: str
    work_centre: str
    ordered: int
    completed: int
    state: str | None
    status: str
    eta_at: dt.datetime | None
    inspected: int = 0  # parts measured by a CMM of the order
    out_of_tolerance: int = 0

    @property
    def percent(self) -> int:
        return min(100, self.completed * 100 // self.ordered) if self.ordered else 100


async def start_production(
    session: AsyncSession, *, actor: Actor, order_line_id: uuid.UUID, work_centre: str, device_ids: list[uuid.UUID],
) -> ProductionOrder:
    """Link a confirmed line of the supplier's order to devices of the supplier (RLS: only its own devices)."""
    row = (await session.execute(
        select(OrderLine, PurchaseOrder).join(PurchaseOrder, PurchaseOrder.id == OrderLine.order_id)
        .where(OrderLine.id == order_line_id, PurchaseOrder.supplier_org_id == actor.org_id)
    )).first()
    if row is None:
        raise NotFound("No order line of yours with this id.", code="order_line_not_found")
    line, order = row
    if order.status != OrderStatus.CONFIRMED:
        raise Conflict("Only a line of a confirmed order can go into production.", code="order_not_confirmed")
    devices = (await session.scalars(select(Device).where(Device.id.in_(device_ids)))).all()
    if not device_ids or len(devices) != len(set(device_ids)):
        raise Invalid("Every device must be one of yours.", code="device_not_found")
    if any(load_device_types()[d.type_code].production is None for d in devices):
        raise Invalid("Every device must count good parts.", code="device_not_productive")
    ordered = int((line.confirmed_quantity or line.quantity).to_integral_value())
    production = ProductionOrder(org_id=actor.org_id, buyer_org_id=order.buyer_org_id, order_id=order.id,
                                 order_line_id=line.id, work_centre=work_centre, device_ids=list(set(device_ids)),
                                 ordered=ordered, completed=0)
    session.add(production)
    try:
        async with session.begin_nested():
            await session.flush()
    except Exception as exc:  # the unique order line
        raise Conflict("This order line is already in production.", code="production_exists") from exc
    await _transformation(session, actor, production, step="commissioning", when=utcnow())
    await record_audit(session, actor=actor, action="iot.production.started", object_type="iot_production_order",
                       object_id=production.id, details={"order_line_id": str(line.id), "ordered": ordered})
    await emit(session, org_id=actor.org_id, topic="iot.production.started",
               payload={"id": str(production.id), "order_id": str(order.id)})
    return production


@dataclass(frozen=True)
class StartableLine:
    """A confirmed line of the supplier's orders that is not in production yet (the start form's choices)."""

    id: uuid.UUID
    order_number: str
    line_no: int
    material_code: str
    quantity: int


async def startable_lines(session: AsyncSession, *, org_id: uuid.UUID) -> list[StartableLine]:
    in_production = select(ProductionOrder.order_line_id)
    rows = (await session.execute(
        select(OrderLine.id, PurchaseOrder.number, OrderLine.line_no, OrderLine.material_code,
               func.coalesce(OrderLine.confirmed_quantity, OrderLine.quantity))
        .join(PurchaseOrder, PurchaseOrder.id == OrderLine.order_id)
        .where(PurchaseOrder.supplier_org_id == org_id, PurchaseOrder.status == OrderStatus.CONFIRMED,
               OrderLine.id.not_in(in_production))
        .order_by(PurchaseOrder.number, OrderLine.line_no).limit(200)
    )).all()
    return [StartableLine(i, number, no, code, int(qty)) for i, number, no, code, qty in rows]


async def productive_devices(session: AsyncSession) -> list[Device]:
    """The organization's devices (RLS) whose type counts good parts, in service."""
    productive = [code for code, spec in load_device_types().items() if spec.production is not None]
    return list((await session.scalars(select(Device).where(
        Device.type_code.in_(productive), Device.lifecycle != "retired").order_by(Device.code).limit(500))).all())


async def apply_telemetry(session: AsyncSession, rows: Sequence[TelemetryRow]) -> None:
    """Progress of the running production orders whose devices sent these rows (the bridge's transaction)."""
    relevant = [row for row in rows if row.key in _ROLE_BY_KEY]
    if not relevant:
        return
    devices = list({row.device_id for row in relevant})
    orders = (await session.scalars(select(ProductionOrder).where(
        ProductionOrder.status == ProductionStatus.RUNNING, ProductionOrder.device_ids.overlap(devices)
    ).with_for_update())).all()
    for production in orders:
        mine = [row for row in relevant if row.device_id in production.device_ids]
        await _store_counts(session, production, [r for r in mine if _ROLE_BY_KEY[r.key] == "good_count"])
        _take_state(production, [r for r in mine if _ROLE_BY_KEY[r.key] == "state"])
        await quality.apply_measurements(session, production, [r for r in mine if _ROLE_BY_KEY[r.key] == "deviation"])
        await _recompute(session, production)
    await session.flush()


_ROLE_BY_KEY = {  # telemetry key → "good_count" | "state" | "deviation", from the types' production mappings
    key: role for spec in load_device_types().values() if spec.production is not None
    for role, key in (("good_count", spec.production.good_count), ("state", spec.production.state),
                      ("deviation", spec.production.deviation)) if key is not None
}


async def _store_counts(session: AsyncSession, production: ProductionOrder, rows: list[TelemetryRow]) -> None:
    rows = [row for row in rows if row.value_num is not None and 0 <= row.value_num <= MOST_GOOD_PARTS]
    if not rows:
        return
    await session.execute(insert(ProductionCount).values([
        {"org_id": production.org_id, "production_order_id": production.id, "device_id": row.device_id,
         "ts": row.ts, "seq": -1 if row.seq is None else row.seq, "good_count": int(row.value_num or 0)}
        for row in rows
    ]).on_conflict_do_nothing())


def _take_state(production: ProductionOrder, rows: list[TelemetryRow]) -> None:
    newest = max(rows, key=lambda row: row.ts, default=None)
    if newest is not None and (production.state_at is None or newest.ts >= production.state_at):
        production.state, production.state_at = newest.value_text, newest.ts


async def _recompute(session: AsyncSession, production: ProductionOrder) -> None:
    """``completed`` from the stored readings; ETA from the rate over the last readings' window."""
    result = (await session.execute(text("""
        WITH steps AS (
          SELECT ts, CASE WHEN prev IS NULL THEN 0 WHEN good_count >= prev THEN good_count - prev
                          ELSE good_count END AS step
          FROM (SELECT ts, good_count, lag(good_count) OVER (PARTITION BY device_id ORDER BY ts, seq) AS prev
                FROM iot_production_counts WHERE production_order_id = :id) readings)
        SELECT coalesce(sum(step), 0),
               coalesce(sum(step) FILTER (WHERE ts > (SELECT max(ts) FROM steps) - make_interval(secs => :window)), 0),
               extract(epoch FROM max(ts) - min(ts) FILTER (
                 WHERE ts > (SELECT max(ts) FROM steps) - make_interval(secs => :window))),
               max(ts)
        FROM steps
    """), {"id": production.id, "window": RATE_WINDOW.total_seconds()})).one()
    completed, recent, span, last_ts = min(int(result[0]), MOST_GOOD_PARTS), int(result[1]), result[2], result[3]
    production.completed = completed
    production.eta_at = _eta(production.ordered - completed, recent, float(span or 0), last_ts)
    if completed >= production.ordered:
        production.status, production.finished_at, production.eta_at = ProductionStatus.FINISHED, last_ts, None
        await session.flush()
        await _transformation(session, Actor(org_id=production.org_id), production, step="commissioning",
                              when=last_ts or utcnow(), finished=True)
        await emit(session, org_id=production.org_id, topic="iot.production.finished",
                   payload={"id": str(production.id), "order_id": str(production.order_id), "completed": completed})


def _eta(remaining: int, recent: int, span_seconds: float, last_ts: dt.datetime | None) -> dt.datetime | None:
    if remaining <= 0 or recent <= 0 or span_seconds <= 0 or last_ts is None:
        return None
    return last_ts + dt.timedelta(seconds=remaining * span_seconds / recent)


async def _transformation(session: AsyncSession, actor: Actor, production: ProductionOrder, *, step: str,
                          when: dt.datetime, finished: bool = False) -> None:
    """Start (inputs: the order line) or finish (outputs: the good parts) as an EPCIS TransformationEvent."""
    line_epc = f"urn:tradeloom:order-line:{production.order_line_id}"
    parts = [{"epcClass": f"urn:tradeloom:production:{production.id}", "quantity": production.completed}]
    event_id = uuid.uuid5(production.id, "finish" if finished else "start")  # a replay is a duplicate
    event = {
        "type": "TransformationEvent", "eventID": f"urn:uuid:{event_id}",
        "eventTime": when.isoformat(), "eventTimeZoneOffset": "+00:00",
        "transformationID": f"urn:tradeloom:production:{production.id}", "bizStep": step,
        **({"outputQuantityList": parts} if finished else {"inputEPCList": [line_epc]}),
    }
    await capture_event(session, actor, event, when)



async def progress_for_order(session: AsyncSession, *, order_id: uuid.UUID) -> list[Progress]:
    """Production progress of an order's lines, for either party (RLS: supplier or buyer)."""
    return await _progress(session, ProductionOrder.order_id == order_id)


async def list_production(session: AsyncSession, *, org_id: uuid.UUID) -> list[Progress]:
    """The supplier's own production orders, newest first."""
    return await _progress(session, ProductionOrder.org_id == org_id)


async def _progress(session: AsyncSession, condition: ColumnElement[bool]) -> list[Progress]:
    rows = (await session.execute(
        select(ProductionOrder, OrderLine.line_no, OrderLine.material_code)
        .join(OrderLine, OrderLine.id == ProductionOrder.order_line_id)
        .where(condition).order_by(ProductionOrder.created_at.desc())
    )).all()
    return [Progress(p.id, p.order_id, line_no, code, p.work_centre, p.ordered, p.completed, p.state, p.status,
                     p.eta_at, p.inspected, p.out_of_tolerance) for p, line_no, code in rows]
