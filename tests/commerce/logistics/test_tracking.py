"""Carrier tracking: the signed webhook (forged ⇒ 401, nothing stored; replays ignored) and the timeline."""

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.models import Carrier, Shipment, TrackingEvent
from commerce.logistics.service.tracking import SIGNATURE_HEADER, sign
from commerce.orders.service.common import order_lines
from ledger.epcis.models import StoredEpcisEvent
from ledger.models import EvidenceRecord
from tests.logistics_factories import (
    LogisticsWorld,
    confirmed_order,
    dispatched,
    make_logistics_world,
    one_batch,
    stock_up,
)
from tests.materials_factories import as_owner
from tradeloom.outbox.models import OutboxEvent

SECRET = "carrier-secret-" + "k" * 24


@dataclass(frozen=True)
class Tracked:
    world: LogisticsWorld
    shipment: Shipment


@pytest.fixture
async def tracked(session: AsyncSession) -> Tracked:
    """A dispatched shipment carried by SF Express under tracking number SF1234567890."""
    world = await make_logistics_world(session)
    await stock_up(session, world)
    session.add(Carrier(code="sf-express", name_zh="顺丰速运", name_en="SF Express", webhook_secret=SECRET))
    await session.flush()
    order = await confirmed_order(session, world)
    (line,) = await order_lines(session, order.id)
    made = await dispatched(session, world, order.id, one_batch(world, line.id, "300"))
    await as_owner(session)
    carrier = await session.scalar(select(Carrier.id).where(Carrier.code == "sf-express"))
    made.carrier_id = carrier
    await session.flush()
    return Tracked(world, made)


def event(state: str, event_id: str | None = None, tracking_number: str = "SF1234567890") -> bytes:
    return orjson.dumps({"event_id": event_id or uuid.uuid4().hex, "tracking_number": tracking_number,
                         "state": state, "at": dt.datetime.now(dt.UTC).isoformat(), "location": "宁波"})


async def post(client: AsyncClient, body: bytes, secret: str = SECRET, carrier: str = "sf-express") -> Response:
    return await client.post(f"/api/v1/logistics/carriers/{carrier}/events", content=body,
                             headers={SIGNATURE_HEADER: sign(secret, body), "Content-Type": "application/json"})


async def _events(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(TrackingEvent)) or 0


async def test_forged_or_unknown_carrier_events_are_refused(client: AsyncClient, session: AsyncSession,
                                                            tracked: Tracked) -> None:
    for answer in (await post(client, event("delivered"), secret="guessed"),
                   await post(client, event("delivered"), carrier="nobody")):
        assert (answer.status_code, answer.headers["content-type"]) == (401, "application/problem+json")
        assert answer.json()["code"] == "carrier_signature_invalid"
    unsigned = await client.post("/api/v1/logistics/carriers/sf-express/events", content=event("delivered"))
    assert unsigned.status_code == 401
    assert await _events(session) == 0
    shipment = await session.get(Shipment, tracked.shipment.id, populate_existing=True)
    assert shipment is not None and shipment.status == "dispatched"


async def test_signed_events_build_the_timeline_and_deliver(client: AsyncClient, session: AsyncSession,
                                                             tracked: Tracked) -> None:
    # when the carrier reports pick-up (twice: a redelivery), transit and delivery
    picked = event("picked_up", "E-1")
    answers = [await post(client, body) for body in (picked, picked, event("in_transit"), event("delivered"))]
    # then three steps are on the timeline and the shipment is delivered
    assert [a.json()["status"] for a in answers] == ["recorded", "duplicate", "recorded", "recorded"]
    detail = (await client.get(f"/api/v1/logistics/shipments/{tracked.shipment.id}",
                               headers=tracked.world.orders.buyer.headers)).json()
    assert [step["state"] for step in detail["tracking"]] == ["picked_up", "in_transit", "delivered"]
    assert (detail["status"], detail["tracking_state"]) == ("delivered", "delivered")
    # and delivery is an outbox event, an EPCIS ObjectEvent (arriving) and an evidence entry, once
    await as_owner(session)
    assert await _count(session, OutboxEvent, OutboxEvent.topic == "shipment.delivered") == 1
    assert await _count(session, StoredEpcisEvent, StoredEpcisEvent.biz_step == "arriving") == 1
    assert await _count(session, EvidenceRecord, EvidenceRecord.kind == "shipment.delivered") == 1
    # and an unknown tracking number is a 404 even when signed
    unknown = await post(client, event("in_transit", tracking_number="SF000"))
    assert unknown.status_code == 404


async def _count(session: AsyncSession, model: type, condition: Any) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(condition)) or 0
