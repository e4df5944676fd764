"""Production orders: linking a confirmed line, progress from counters (replays change nothing), buyer's view."""

import datetime as dt
import uuid
from dataclasses import dataclass

import pytest
from httpx import AsyncClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.orders.models import OrderLine, PurchaseOrder
from iot_bridge import production
from iot_bridge.models import Device, ProductionOrder
from iot_bridge.telemetry import TelemetryRow
from ledger.epcis.models import StoredEpcisEvent
from tests.materials_factories import act_as, as_owner, owner_actor
from tests.orders_factories import OrderWorld, award_line, make_world, place_order
from tests.tradeloom.test_pages import sign_in
from tradeloom.errors import Conflict, Invalid

T0 = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)


@dataclass
class Line:
    world: OrderWorld
    order_id: uuid.UUID
    line_id: uuid.UUID
    device_id: uuid.UUID


async def confirmed_line(session: AsyncSession, quantity: str = "100", *, confirm: bool = True) -> Line:
    world = await make_world(session)
    order = await place_order(session, world, award_line(world, quantity=quantity))
    await as_owner(session)
    if confirm:
        await session.execute(update(PurchaseOrder).where(PurchaseOrder.id == order.id).values(status="confirmed"))
    line_id = await session.scalar(select(OrderLine.id).where(OrderLine.order_id == order.id))
    device = Device(org_id=world.supplier.org.id, code="press-1", name="Press", type_code="stamping_press",
                    protocol="sparkplug", lifecycle="active", desired_attributes={}, reported_attributes={})
    session.add(device)
    await session.flush()
    assert line_id is not None
    return Line(world, order.id, line_id, device.id)


async def start(session: AsyncSession, line: Line) -> ProductionOrder:
    await act_as(session, line.world.supplier)
    started = await production.start_production(session, actor=owner_actor(line.world.supplier),
                                                order_line_id=line.line_id, work_centre="PRESS-A",
                                                device_ids=[line.device_id])
    await as_owner(session)
    return started


def count(line: Line, minutes: int, value: int, seq: int) -> TelemetryRow:
    return TelemetryRow.of(org_id=line.world.supplier.org.id, device_id=line.device_id, key="good_count",
                           ts=T0 + dt.timedelta(minutes=minutes), value=value, seq=seq, historical=False)


def state(line: Line, minutes: int, value: str) -> TelemetryRow:
    return TelemetryRow.of(org_id=line.world.supplier.org.id, device_id=line.device_id, key="state",
                           ts=T0 + dt.timedelta(minutes=minutes), value=value, seq=None, historical=False)


async def test_counters_drive_progress_and_replays_change_nothing(session: AsyncSession):
    # given a confirmed line of 100 pieces in production on the supplier's press
    line = await confirmed_line(session)
    order = await start(session, line)
    batch = [count(line, 0, 1000, 1), state(line, 0, "run"), count(line, 5, 1010, 2), count(line, 10, 1030, 3)]
    # when the bridge stores the batch, then the same batch again (a redelivery) and one duplicate message
    await production.apply_telemetry(session, batch)
    await production.apply_telemetry(session, batch)
    await production.apply_telemetry(session, [count(line, 5, 1010, 2)])
    await session.refresh(order)
    # then 30 pieces are done at 3 per minute, so the other 70 need about 23 more minutes
    assert (order.completed, order.state, order.status) == (30, "run", "running")
    assert order.eta_at == T0 + dt.timedelta(minutes=10) + dt.timedelta(minutes=70 / 3)
    # and a counter reset counts from zero; an older state does not replace a newer one
    await production.apply_telemetry(session, [count(line, 12, 5, 4), state(line, -1, "down")])
    await session.refresh(order)
    assert (order.completed, order.state) == (35, "run")


async def test_counter_readings_no_machine_sends_are_passed_over(session: AsyncSession):
    line = await confirmed_line(session)
    order = await start(session, line)
    # when a device reports a counter beyond what a double counts exactly, and a negative one, among real ones
    await production.apply_telemetry(session, [count(line, 0, 2**63 - 1, 1), count(line, 1, -5, 2),
                                               count(line, 2, 10, 3), count(line, 3, 14, 4)])
    await session.refresh(order)
    # then only the real ones count
    assert order.completed == 4


async def test_finishing_records_epcis_events_and_the_buyer_sees_progress(session: AsyncSession):
    line = await confirmed_line(session, quantity="20")
    order = await start(session, line)
    await production.apply_telemetry(session, [count(line, 0, 0, 1), count(line, 3, 20, 2), state(line, 3, "idle")])
    await session.refresh(order)
    assert (order.status, order.finished_at, order.eta_at) == ("finished", T0 + dt.timedelta(minutes=3), None)
    events = (await session.scalars(select(StoredEpcisEvent.biz_step).where(
        StoredEpcisEvent.event_type == "TransformationEvent",
        StoredEpcisEvent.org_id == line.world.supplier.org.id))).all()
    assert len(events) == 2
    # the buyer reads its order's progress (RLS); another supplier sees nothing
    await act_as(session, line.world.buyer)
    (seen,) = await production.progress_for_order(session, order_id=line.order_id)
    assert (seen.completed, seen.ordered, seen.percent) == (20, 20, 100)
    await act_as(session, line.world.other_supplier)
    assert await production.progress_for_order(session, order_id=line.order_id) == []


async def test_only_confirmed_lines_and_own_devices(session: AsyncSession):
    draft = await confirmed_line(session, confirm=False)
    with pytest.raises(Conflict):
        await start(session, draft)
    await as_owner(session)
    line = await confirmed_line(session)
    await act_as(session, line.world.supplier)
    with pytest.raises(Invalid):  # the other world's press is not this supplier's
        await production.start_production(session, actor=owner_actor(line.world.supplier),
                                          order_line_id=line.line_id, work_centre="A", device_ids=[draft.device_id])
    await as_owner(session)
    await start(session, line)
    with pytest.raises(Conflict):
        await start(session, line)


async def test_order_page_loads_the_progress_fragment(client: AsyncClient, session: AsyncSession):
    line = await confirmed_line(session)
    await start(session, line)
    await production.apply_telemetry(session, [count(line, 0, 0, 1), count(line, 1, 40, 2), state(line, 1, "run")])
    await sign_in(client, line.world.buyer.user.email)
    page = await client.get(f"/orders/{line.order_id}")
    assert f'hx-get="/iot/production/orders/{line.order_id}/progress"' in page.text
    fragment = await client.get(f"/iot/production/orders/{line.order_id}/progress",
                                headers={"Accept-Language": "zh-CN"})
    assert "40 / 100" in fragment.text and "生产进度" in fragment.text
