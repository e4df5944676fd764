"""Hostile traffic for the bridge: a seeded corpus of malformed and out-of-range JSON and Sparkplug messages on
a registered device's topics. Afterwards no message may have failed the bridge's code or a batch, and the
next good messages must be stored."""

import json
import logging
import random
import uuid
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from iot_bridge.plain_topics import TopicKind, plain_topic
from iot_bridge.sparkplug import DataType, MessageType, Metric, device_topic, node_topic
from iot_bridge.sparkplug import sparkplug_b_pb2 as pb
from tests.iot_bridge.bridge_world import World, node_birth, stored

MESSAGES = 300
HOSTILE_VALUES: list[Any] = [
    2**63, -(2**63) - 1, 10**400, 2**64 - 1, -1, 0, 1.5, 1e308, float("nan"), float("inf"), float("-inf"), True,
    None, "", "\x00", "run\x00", "\ud800", "运行", "x" * 70_000, [], [1, 2], {}, {"nested": {"a": 1}},
]
SENSOR_KEYS = ["temperature", "humidity", "battery", "firmware", "report_interval", "unknown"]
LATHE_METRICS = ["Spindle/Temperature", "good_count", "state", "Spindle/Speed", "bdSeq", "Node Control/Rebirth"]
VALUE_FIELDS = ["int_value", "long_value", "float_value", "double_value", "boolean_value", "string_value",
                "bytes_value"]


def json_message(rng: random.Random, world: World) -> tuple[str, bytes]:
    kind = rng.choice([TopicKind.TELEMETRY, TopicKind.ATTRIBUTES, TopicKind.COMMAND_ACK])
    def value() -> Any:
        return rng.choice(HOSTILE_VALUES)
    document: Any = {
        TopicKind.TELEMETRY: {"seq": value(), "ts": value(), "historical": value(),
                              "values": {key: value() for key in rng.sample(SENSOR_KEYS, 2)}},
        TopicKind.ATTRIBUTES: {key: value() for key in rng.sample(SENSOR_KEYS, 2)},
        TopicKind.COMMAND_ACK: {"correlation_id": rng.choice([str(uuid.uuid4()), value()]), "ok": value(),
                                "detail": value()},
    }[kind]
    if rng.random() < 0.1:
        document = value()  # not an object at all
    return plain_topic(world.org_id, "th-1", kind), json.dumps(document).encode()


def sparkplug_message(rng: random.Random, world: World) -> tuple[str, bytes]:
    payload = pb.Payload()
    if rng.random() < 0.8:
        payload.seq = rng.choice([rng.randrange(256), 256, 2**64 - 1])
    if rng.random() < 0.8:
        payload.timestamp = rng.choice([0, 1, 2**63, 2**64 - 1, 1_800_000_000_000])
    for _ in range(rng.randrange(4)):
        metric = payload.metrics.add(name=rng.choice(LATHE_METRICS), datatype=rng.randrange(40))
        if rng.random() < 0.5:
            metric.alias = rng.randrange(5)
        field = rng.choice(VALUE_FIELDS)
        setattr(metric, field, {"int_value": rng.randrange(2**32), "long_value": rng.randrange(2**64),
                                "float_value": rng.random(), "double_value": rng.choice([1e308, float("nan")]),
                                "boolean_value": True, "string_value": rng.choice(["run", "\x00", "a" * 1000]),
                                "bytes_value": b"\xff\x00"}[field])
    data = payload.SerializeToString()
    if data and rng.random() < 0.2:  # a damaged frame
        index = rng.randrange(len(data))
        data = data[:index] + bytes([rng.randrange(256)]) + data[index + 1:]
    kind = rng.choice([MessageType.DDATA, MessageType.DBIRTH, MessageType.DDEATH, MessageType.NDATA,
                       MessageType.NBIRTH, MessageType.NDEATH])
    if kind in (MessageType.NDATA, MessageType.NBIRTH, MessageType.NDEATH):
        return node_topic(world.group, kind, world.edge), data
    return device_topic(world.group, kind, world.edge, rng.choice(["lathe-1", "th-1", "ghost"])), data


async def test_hostile_traffic_fails_nothing_and_the_bridge_goes_on(world: World, engine: AsyncEngine,
                                                                    caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.ERROR, logger="iot_bridge")
    rng = random.Random(20261127)
    node_birth(world)
    for _ in range(MESSAGES):
        world.publish(*(json_message(rng, world) if rng.random() < 0.5 else sparkplug_message(rng, world)))
    # then, born again, the lathe's and the sensor's next reports are stored
    node_birth(world)
    world.sparkplug(MessageType.DDATA, 2, (Metric(None, 41.5, DataType.DOUBLE, alias=1),))
    world.publish(plain_topic(world.org_id, "th-1", TopicKind.TELEMETRY),
                  b'{"seq": 9000000, "values": {"temperature": 19.5}}')

    async def both_stored() -> bool:
        return (("spindle_temp", 41.5) in await stored(engine, world.lathe_id)
                and ("temperature", 19.5) in await stored(engine, world.sensor_id))

    await world.until(both_stored)
    assert world.bridge.totals["ingest_error"] == 0
    assert [r.message for r in caplog.records] == []  # no batch failed, no message broke the bridge's code
