"""A running bridge against the real broker, PostgreSQL and Redis, for the bridge tests (fixture ``world``).

Each test uses its own Sparkplug group, organization and host id, so tests on other workers (and other
projects' clients on the shared broker) do not see each other's messages.
"""

import asyncio
import contextlib
import datetime as dt
import inspect
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt
import psycopg
import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from iot_bridge.bridge.runner import Bridge
from iot_bridge.credentials import hash_mqtt_password
from iot_bridge.edge.mqtt import BrokerAddress
from iot_bridge.models import Device, EdgeNode, Protocol, telemetry
from iot_bridge.sparkplug import (
    BD_SEQ,
    DataType,
    MessageType,
    Metric,
    Payload,
    device_topic,
    encode_payload,
    node_topic,
)
from tests.conftest import truncate_all
from tests.factories import make_org
from tradeloom.db import libpq_url
from tradeloom.settings import Settings

BROKER = BrokerAddress.from_url(os.environ["TRADELOOM_TEST_MQTT_URL"])  # set by tests/conftest.py
WAIT_SECONDS = 30


@dataclass
class RunningBridge:
    bridge: Bridge
    stop_event: asyncio.Event
    task: asyncio.Task[None]

    @classmethod
    async def start(cls, bridge: Bridge) -> "RunningBridge":
        stop_event = asyncio.Event()
        task = asyncio.create_task(bridge.run(stop_event))
        async with asyncio.timeout(WAIT_SECONDS):
            await bridge.connected.wait()
            await bridge.restored.wait()
        return cls(bridge, stop_event, task)

    async def stop(self) -> None:
        self.stop_event.set()
        await self.task


@dataclass
class World:
    org_id: uuid.UUID
    group: str
    edge: str
    lathe_id: uuid.UUID  # Sparkplug device "lathe-1" under the edge node
    sensor_id: uuid.UUID  # plain MQTT device "th-1"
    running: RunningBridge
    publisher: mqtt.Client
    received: list[tuple[str, bytes]]
    sessionmaker: async_sessionmaker

    @property
    def bridge(self) -> Bridge:
        return self.running.bridge

    async def start_new_bridge(self, **settings: object) -> None:
        """After ``running.stop()``: a new bridge (no Sparkplug sessions in memory) with the same settings, but
        for those given."""
        old = self.bridge
        self.running = await RunningBridge.start(Bridge(old.settings.model_copy(update=settings), old.sessionmaker,
                                                        old.redis, old.broker, persistent_session=False,
                                                        topic_filters=old.topic_filters))

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        self.publisher.publish(topic, payload, qos=qos).wait_for_publish(5)

    def sparkplug(self, kind: MessageType, seq: int | None, metrics: tuple[Metric, ...],
                  device: str | None = "lathe-1") -> None:
        topic = (device_topic(self.group, kind, self.edge, device) if device
                 else node_topic(self.group, kind, self.edge))
        self.publish(topic, encode_payload(Payload(timestamp=now_ms(), seq=seq, metrics=metrics)), qos=0)

    async def until(self, condition: Callable[[], bool | Awaitable[bool]]) -> None:
        """Wait (bounded) until the bridge has done what the test sent it."""
        for _ in range(WAIT_SECONDS * 20):
            outcome = condition()
            if await outcome if inspect.isawaitable(outcome) else outcome:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"bridge did not get there: {self.bridge.totals}")


def now_ms() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp() * 1000)


other_org = uuid.uuid4()  # its topics are subscribed to, but it has no devices here


@pytest.fixture
async def world(engine: AsyncEngine, redis_url: str, test_settings: Settings) -> AsyncIterator[World]:
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    tag = uuid.uuid4().hex[:10]
    async with sessionmaker() as session, session.begin():
        org = await make_org(session)
        edge = EdgeNode(org_id=org.id, group_id=f"g{tag}", edge_node_id="edge-1", name="Edge",
                        mqtt_username=f"edge.{tag}", mqtt_password_hash=hash_mqtt_password("x"))
        session.add(edge)
        await session.flush()
        lathe = Device(org_id=org.id, code="lathe-1", name="Lathe", type_code="cnc_lathe",
                       protocol=Protocol.SPARKPLUG.value, edge_node_id=edge.id, lifecycle="active",
                       desired_attributes={}, reported_attributes={})
        sensor = Device(org_id=org.id, code="th-1", name="Sensor", type_code="temperature_humidity_sensor",
                        protocol=Protocol.MQTT_JSON.value, lifecycle="active", desired_attributes={},
                        reported_attributes={})
        session.add_all([lathe, sensor])
    redis = Redis.from_url(redis_url)
    settings = test_settings.model_copy(update={"iot_host_id": f"test-{tag}", "iot_shards": 2,
                                          "iot_reorder_timeout_seconds": 3.0})
    bridge = Bridge(settings, sessionmaker, redis, BROKER, persistent_session=False, topic_filters=[
        f"spBv1.0/g{tag}/#", f"tl/{org.id}/+/telemetry", f"tl/{org.id}/+/attributes", f"tl/{org.id}/+/commands/ack",
        f"tl/{other_org}/+/telemetry"])
    running = await RunningBridge.start(bridge)
    received: list[tuple[str, bytes]] = []
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-pub-{tag}")
    publisher.on_message = lambda _c, _u, message: received.append((message.topic, message.payload))
    publisher.connect(BROKER.host, BROKER.port)
    publisher.loop_start()
    publisher.subscribe([(f"spBv1.0/g{tag}/NCMD/#", 1), (f"spBv1.0/g{tag}/DCMD/#", 1), (f"tl/{org.id}/+/commands", 1)])
    world = World(org.id, f"g{tag}", "edge-1", lathe.id, sensor.id, running, publisher, received, sessionmaker)
    yield world
    await world.running.stop()  # the bridge's last word is its retained STATE offline: remove it from the shared broker
    publisher.publish(f"spBv1.0/STATE/test-{tag}", b"", qos=1, retain=True).wait_for_publish(5)
    publisher.loop_stop()
    publisher.disconnect()
    await redis.aclose()
    await truncate_all(engine)


def node_birth(world: World) -> None:
    world.sparkplug(MessageType.NBIRTH, 0, (Metric(BD_SEQ, 0, DataType.UINT64),), device=None)
    world.sparkplug(MessageType.DBIRTH, 1, (
        Metric("Spindle/Temperature", 40.0, DataType.DOUBLE, alias=1),
        Metric("good_count", 0, DataType.INT64, alias=2),
    ))


async def stored(engine: AsyncEngine, device_id: uuid.UUID) -> list[tuple[str, float | None]]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(telemetry.c.key, telemetry.c.value_num)
                                  .where(telemetry.c.device_id == device_id).order_by(telemetry.c.ts, telemetry.c.key))
        return [(key, value) for key, value in rows]


@contextlib.asynccontextmanager
async def database_away(database_url: str) -> AsyncIterator[None]:
    """No connection to the database until the block is left; the open ones are ended at once."""
    name = libpq_url(database_url).partition("?")[0].rsplit("/", 1)[1]
    with psycopg.connect(libpq_url(os.environ["TRADELOOM_TEST_DATABASE_URL"]), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        try:
            yield
        finally:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
