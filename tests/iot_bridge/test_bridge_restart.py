"""No data lost across bridge restarts for edge nodes that do not follow the bridge's STATE (no primary host).

The bridge's persistent MQTT session makes the broker keep QoS 1 messages while it is away; the Sparkplug
sessions it saves with each batch (``iot_edge_sessions``) let a new bridge decode them on return.
Against the real Mosquitto (TRADELOOM_TEST_MQTT_URL), PostgreSQL and Redis. The embedded broker (amqtt 0.12)
implements neither half of a persistent session — it keeps nothing for a subscriber that is away and sends
nothing again that was not acknowledged — so with it these tests are skipped (docs/iot.md).
"""

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from iot_bridge.bridge.runner import Bridge
from iot_bridge.models import telemetry
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
from tests.conftest import EMBEDDED_MQTT_ENV
from tests.iot_bridge.bridge_world import BROKER, RunningBridge, World, now_ms

pytestmark = pytest.mark.skipif(
    os.environ.get(EMBEDDED_MQTT_ENV) == "amqtt",
    reason="amqtt keeps no persistent sessions: run against Mosquitto (TRADELOOM_TEST_MQTT_URL)")

MESSAGES = 240  # DDATA seq 2 … ; stays under Mosquitto's default queue of 1,000 per offline session


class EdgeNodeWithoutPrimaryHost:
    """Publishes as soon as it is connected (QoS 1), whatever the bridge's STATE says; seq wraps at 256."""

    def __init__(self, world: World) -> None:
        self.world, self.seq, self.count = world, 0, 0

    def _send(self, kind: MessageType, metrics: tuple[Metric, ...], device: str | None = "lathe-1") -> None:
        topic = (device_topic(self.world.group, kind, self.world.edge, device) if device
                 else node_topic(self.world.group, kind, self.world.edge))
        payload = Payload(timestamp=now_ms(), seq=self.seq, metrics=metrics)
        self.world.publish(topic, encode_payload(payload), qos=1)
        self.seq = (self.seq + 1) % 256

    def births(self) -> None:
        self._send(MessageType.NBIRTH, (Metric(BD_SEQ, 0, DataType.UINT64),), device=None)
        self._send(MessageType.DBIRTH, (Metric("good_count", 0, DataType.INT64, alias=2),))

    def count_parts(self, n: int) -> None:
        """``n`` DDATA, by alias only (undecodable without the DBIRTH), good_count 1, 2, 3 …"""
        for _ in range(n):
            self.count += 1
            self._send(MessageType.DDATA, (Metric(None, self.count, DataType.INT64, alias=2),))


async def counts_stored(engine: AsyncEngine, world: World) -> set[int]:
    async with engine.connect() as conn:
        values = await conn.scalars(select(telemetry.c.value_num).where(
            telemetry.c.device_id == world.lathe_id, telemetry.c.key == "good_count"))
        return {int(v) for v in values}


def persistent(old: Bridge) -> Bridge:
    return Bridge(old.settings, old.sessionmaker, old.redis, old.broker, persistent_session=True,
                  topic_filters=old.topic_filters)


async def crash(running: RunningBridge) -> None:
    """The bridge's connection dies without DISCONNECT and its process state is gone (like kill -9)."""
    client = running.bridge._client
    assert client is not None
    sock = client.socket()
    if sock is not None:  # the broker sees the connection end as when the process dies; nothing more goes out
        sock.shutdown(socket.SHUT_RDWR)
    running.task.cancel()
    with contextlib.suppress(BaseException):
        await running.task


def forget_session(world: World) -> None:
    """Remove the bridge's persistent session from the shared broker."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{world.bridge.settings.iot_host_id}-bridge",
                         clean_session=True, protocol=mqtt.MQTTv311)
    client.connect(BROKER.host, BROKER.port)
    client.disconnect()


@pytest.fixture
async def node(world: World) -> AsyncIterator[EdgeNodeWithoutPrimaryHost]:
    """A bridge with a persistent session, and an edge node without primary host, not born yet."""
    await world.running.stop()
    world.running = await RunningBridge.start(persistent(world.bridge))
    yield EdgeNodeWithoutPrimaryHost(world)
    await world.running.stop()
    forget_session(world)


async def test_no_sequence_number_is_lost_when_the_bridge_stops_or_crashes_under_load(
    world: World, engine: AsyncEngine, node: EdgeNodeWithoutPrimaryHost,
):
    # given a born edge node
    node.births()
    node.count_parts(40)
    await world.until(lambda: world.bridge.totals["accepted"] >= 42)
    # when the bridge stops, the node keeps publishing, and a new bridge (nothing in memory) starts
    await world.running.stop()
    node.count_parts(100)  # the seq wraps past 255 on the way
    world.running = await RunningBridge.start(persistent(world.bridge))
    node.count_parts(20)
    # and that bridge crashes while the node publishes, and another one starts
    publishing = asyncio.create_task(asyncio.to_thread(node.count_parts, 60))
    await asyncio.sleep(0.05)
    await crash(world.running)
    await publishing
    world.running = await RunningBridge.start(persistent(world.bridge))
    node.count_parts(20)
    # then every reading is stored, none was refused for want of a birth
    expected = set(range(node.count + 1))
    await world.until(lambda: _all_stored(engine, world, expected))
    assert world.bridge.totals["no_birth"] == 0
    assert node.count == MESSAGES


async def _all_stored(engine: AsyncEngine, world: World, expected: set[int]) -> bool:
    return await counts_stored(engine, world) >= expected


async def test_what_was_stored_but_not_acknowledged_before_a_crash_is_not_stored_again(
    world: World, engine: AsyncEngine, node: EdgeNodeWithoutPrimaryHost,
):
    # given a bridge that stores a born node's readings but dies before acknowledging them
    node.births()
    node.count_parts(10)
    await world.until(lambda: world.bridge.totals["accepted"] >= 12)
    world.bridge._client.ack = lambda mid, qos: None  # type: ignore[method-assign,union-attr]
    node.count_parts(10)
    await world.until(lambda: world.bridge.totals["accepted"] >= 22)
    await crash(world.running)
    # when a new bridge starts: the broker sends those ten again (DUP), then the node goes on
    world.running = await RunningBridge.start(persistent(world.bridge))
    node.count_parts(5)
    # then the ten are only acknowledged, the five stored, nothing stored twice, no Rebirth asked for
    await world.until(lambda: _all_stored(engine, world, set(range(node.count + 1))))
    await world.until(lambda: world.bridge.totals["already_stored"] == 10)
    async with engine.connect() as conn:
        rows = await conn.scalar(select(func.count()).where(
            telemetry.c.device_id == world.lathe_id, telemetry.c.key == "good_count"))
    assert rows == node.count + 1  # the DBIRTH's 0, then one row per part
    assert not [t for t, _ in world.received if "/NCMD/" in t]
