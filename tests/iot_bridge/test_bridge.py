"""The bridge against a real MQTT broker (TRADELOOM_TEST_MQTT_URL), PostgreSQL and Redis.

Each test uses its own Sparkplug group, organization and host id, so tests on other workers (and other
projects' clients on the shared broker) do not see each other's messages.
"""

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from httpx import AsyncClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from iot_bridge import commands, live
from iot_bridge.bridge.ingest import RECENT_JSON_SEQS, RecentSeqs
from iot_bridge.bridge.runner import Bridge, Inbound
from iot_bridge.device_types import load_device_types
from iot_bridge.edge.agent import EdgeAgent
from iot_bridge.edge.config import EdgeConfig
from iot_bridge.edge.mqtt import BrokerAddress
from iot_bridge.edge.spool import Spool
from iot_bridge.models import Alarm, Device, DeviceCommand
from iot_bridge.plain_topics import TopicKind, plain_topic
from iot_bridge.simulator.modbus_plc import ModbusPlcServer
from iot_bridge.sparkplug import (
    BD_SEQ,
    NODE_REBIRTH,
    DataType,
    MessageType,
    Metric,
    Payload,
    decode_payload,
    device_topic,
    encode_payload,
)
from tests.conftest import start_embedded_broker
from tests.factories import make_member
from tests.iot_bridge.bridge_world import RunningBridge, World, node_birth, now_ms, other_org, stored
from tests.iot_bridge.edge.peers import TEST_BROKER, eventually, running
from tradeloom.audit import Actor
from tradeloom.identity.models import Organization
from tradeloom.net import free_port


async def test_sparkplug_data_is_stored_cached_and_raises_an_alarm_once(world: World, engine: AsyncEngine):
    # given a born edge node and device
    node_birth(world)
    # when data crosses the spindle temperature threshold (80 °C, hysteresis 5) twice, by alias only
    for seq, value in ((2, 85.0), (3, 90.0)):
        world.sparkplug(MessageType.DDATA, seq, (Metric(None, value, DataType.DOUBLE, alias=1),))
    await world.until(lambda: world.bridge.totals["accepted"] >= 4)
    # then
    assert await stored(engine, world.lathe_id) == [
        ("good_count", 0.0), ("spindle_temp", 40.0), ("spindle_temp", 85.0), ("spindle_temp", 90.0)]
    async with engine.connect() as conn:
        alarms = (await conn.execute(select(Alarm.rule_code, Alarm.status).where(Alarm.device_id == world.lathe_id)))
        assert alarms.tuples().all() == [("spindle_overtemp", "active")]
        events = await conn.scalar(text("SELECT count(*) FROM outbox WHERE topic = 'iot.alarm.raised' "
                                        "AND payload->>'device_id' = :d"), {"d": str(world.lathe_id)})
        assert events == 1
    latest = await live.latest_values(world.bridge.redis, org_id=world.org_id, device_id=world.lathe_id)
    assert latest["spindle_temp"][1] == 90.0
    assert (await live.online_flags(world.bridge.redis, org_id=world.org_id))[world.lathe_id] is True


async def test_readings_go_live_only_on_the_channels_a_page_listens_to(world: World):
    # given a device page listening to the lathe, and pattern subscriptions that see every live message of both
    # devices (a pattern subscription is not a page listening)
    redis = world.bridge.redis
    page, everything = redis.pubsub(), redis.pubsub()
    await page.subscribe(live.live_channel(world.lathe_id))
    await everything.psubscribe(*(f"{live.live_channel(d)}*" for d in (world.lathe_id, world.sensor_id)))
    await asyncio.sleep(live.WATCHED_CHECK_SECONDS * 1.5)  # the bridge asks Redis who listens once a second
    # when both devices report
    node_birth(world)
    world.sparkplug(MessageType.DDATA, 2, (Metric(None, 85.0, DataType.DOUBLE, alias=1),))
    world.publish(plain_topic(world.org_id, "th-1", TopicKind.TELEMETRY),
                  json.dumps({"ts": now_ms(), "seq": 1, "values": {"temperature": 21.5}}).encode())
    await world.until(lambda: world.bridge.totals["accepted"] >= 4)
    # then only the lathe's readings went out live; the latest values of both are kept
    channels = set()
    for _ in range(20):  # 2 s; a subscription's confirmation is read as None too
        if (message := await everything.get_message(ignore_subscribe_messages=True, timeout=0.1)) is not None:
            channels.add(message["channel"].decode())
    assert channels == {live.live_channel(world.lathe_id)}
    latest = await live.latest_values(redis, org_id=world.org_id, device_id=world.sensor_id)
    assert latest["temperature"][1] == 21.5
    await page.aclose()
    await everything.aclose()


async def test_a_seq_gap_asks_the_edge_node_for_a_rebirth(world: World):
    node_birth(world)
    world.sparkplug(MessageType.DDATA, 7, (Metric(None, 50.0, DataType.DOUBLE, alias=1),))
    await world.until(lambda: any("/NCMD/" in topic for topic, _ in world.received))
    ((topic, payload),) = [(t, p) for t, p in world.received if "/NCMD/" in t]
    assert topic == f"spBv1.0/{world.group}/NCMD/{world.edge}"
    assert decode_payload(payload).metrics[0].name == NODE_REBIRTH


async def test_the_end_of_the_broker_connection_is_logged(world: World, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO, logger="iot_bridge.bridge.runner")
    await world.running.stop()
    ((level, reason),) = [(r.levelno, r.reason) for r in caplog.records  # type: ignore[attr-defined]
                          if r.message.startswith("iot bridge disconnected")]
    assert (level, reason) == (logging.INFO, "Normal disconnection")


async def test_plain_json_telemetry_and_attributes(world: World, engine: AsyncEngine):
    base = (world.org_id, "th-1")
    world.publish(plain_topic(*base, TopicKind.TELEMETRY),
                  json.dumps({"ts": now_ms(), "seq": 1, "values": {"temperature": 21.5, "humidity": 40}}).encode())
    world.publish(plain_topic(*base, TopicKind.ATTRIBUTES), json.dumps({"firmware": "2.1.0"}).encode())
    await world.until(lambda: world.bridge.totals["accepted"] >= 2)
    assert await stored(engine, world.sensor_id) == [("humidity", 40.0), ("temperature", 21.5)]
    async with engine.connect() as conn:
        reported = await conn.scalar(select(Device.reported_attributes).where(Device.id == world.sensor_id))
    assert reported == {"firmware": "2.1.0"}


async def test_only_messages_of_the_current_broker_connection_are_acknowledged(world: World):
    # given a bridge whose connection to the broker was replaced since it received one report
    acknowledged: list[int] = []
    world.bridge._client.ack = lambda mid, qos: acknowledged.append(mid)  # type: ignore[method-assign,union-attr]
    topic = plain_topic(world.org_id, "th-1", TopicKind.TELEMETRY)
    body = json.dumps({"ts": now_ms(), "values": {"temperature": 20.0}}).encode()
    current = world.bridge._connection
    for delivery, (mid, connection) in enumerate(((7001, current - 1), (7002, current)), start=1):
        world.bridge._take(Inbound(topic, body, mid, qos=1, dup=False, connection=connection, delivery=delivery))
    # then both are stored, and only the one of this connection is acknowledged: the broker sends the other
    # again on this connection, where its old packet identifier may by now name another message
    await world.until(lambda: world.bridge.totals["accepted"] >= 2)
    assert acknowledged == [7002]


async def test_a_redelivered_json_report_the_bridge_took_already_is_not_stored_twice(world: World,
                                                                                      engine: AsyncEngine):
    # given a sensor whose reports 1 and 2 the bridge took, then their copies marked DUP (as after a reconnect)
    topic = plain_topic(world.org_id, "th-1", TopicKind.TELEMETRY)
    reports = [json.dumps({"ts": now_ms() + seq, "seq": seq, "values": {"temperature": 20.0 + seq}}).encode()
               for seq in (1, 2, 3)]
    for mid, (body, dup) in enumerate([(reports[0], False), (reports[1], False), (reports[1], True),
                                       (reports[0], True), (reports[2], True)], start=1):
        world.bridge.queues[0].put_nowait(Inbound(topic, body, mid, qos=1, dup=dup, connection=0))
    # then each is stored once: the copies of 1 and 2 are acknowledged only; 3, first seen as a copy, is stored
    await world.until(lambda: world.bridge.totals["accepted"] + world.bridge.totals["already_stored"] >= 5)
    assert world.bridge.totals["already_stored"] == 2
    assert sorted(await stored(engine, world.sensor_id)) == [("temperature", 21.0), ("temperature", 22.0),
                                                             ("temperature", 23.0)]


async def test_a_redelivered_json_report_overtaken_by_a_later_one_is_stored(world: World, engine: AsyncEngine):
    # given a sensor whose report 2 reached the bridge before report 1 (Mosquitto 2.0.11 under a backlog), and
    # report 1 only as a copy marked DUP, after a reconnect
    topic = plain_topic(world.org_id, "th-1", TopicKind.TELEMETRY)
    reports = {seq: json.dumps({"ts": now_ms() + seq, "seq": seq, "values": {"temperature": 20.0 + seq}}).encode()
               for seq in (1, 2)}
    for mid, (body, dup) in enumerate([(reports[2], False), (reports[1], True), (reports[2], True)], start=1):
        world.bridge.queues[0].put_nowait(Inbound(topic, body, mid, qos=1, dup=dup, connection=0))
    # then report 1 is stored, not taken for a copy of one stored already; the copy of 2 is
    await world.until(lambda: world.bridge.totals["accepted"] + world.bridge.totals["already_stored"] >= 3)
    assert world.bridge.totals["already_stored"] == 1
    assert sorted(await stored(engine, world.sensor_id)) == [("temperature", 21.0), ("temperature", 22.0)]


def test_a_topics_recent_seqs_are_its_last_ones_ingested_whatever_their_order():
    recent = RecentSeqs()
    for seq in (2, 1, *range(3, RECENT_JSON_SEQS + 2)):
        recent.add(seq)
    assert 1 in recent and RECENT_JSON_SEQS + 1 in recent
    assert 2 not in recent  # the oldest ingested went out of the window: a copy of it would be stored again


async def test_hostile_messages_are_counted_and_refused(world: World, engine: AsyncEngine):
    node_birth(world)
    hostile = [
        (plain_topic(world.org_id, "th-1", TopicKind.TELEMETRY), b"{not json"),  # bad_payload
        (plain_topic(world.org_id, "th-1", TopicKind.TELEMETRY),
         json.dumps({"values": {"temperature": "hot"}}).encode()),  # wrong_type
        (plain_topic(world.org_id, "ghost", TopicKind.TELEMETRY), b'{"values": {}}'),  # unknown_device
        (plain_topic(other_org, "th-1", TopicKind.TELEMETRY), b'{"values": {"temperature": 1}}'),  # forged org
        (device_topic(world.group, MessageType.DDATA, world.edge, "th-1"), b"\x00"),  # plain device over Sparkplug
        (device_topic(world.group, MessageType.DDATA, world.edge, "lathe-1"), encode_payload(
            Payload(timestamp=1, seq=2, metrics=(Metric("x", 1, DataType.INT32),)))[:6]),  # truncated protobuf
    ]
    for topic, payload in hostile:
        world.publish(topic, payload)
    await world.until(lambda: sum(world.bridge.totals.values()) - world.bridge.totals["accepted"] >= 6)
    totals = world.bridge.totals
    assert (totals["bad_payload"], totals["wrong_type"], totals["unknown_device"]) == (2, 1, 3)
    assert await stored(engine, world.sensor_id) == []
    # and the bridge still works
    world.sparkplug(MessageType.DDATA, 3, (Metric(None, 41.0, DataType.DOUBLE, alias=1),))
    async def stored_41() -> bool:
        return ("spindle_temp", 41.0) in await stored(engine, world.lathe_id)

    await world.until(stored_41)


async def test_numbers_out_of_range_are_refused_and_do_not_stop_the_bridge(world: World, engine: AsyncEngine):
    """Values PostgreSQL's columns cannot hold would fail every retry of their batch and stop the shard."""
    node_birth(world)
    telemetry_topic = plain_topic(world.org_id, "th-1", TopicKind.TELEMETRY)
    for document in (b'{"seq": 1180591620717411303424, "values": {"temperature": 20}}',  # bad_payload
                     b'{"values": {"temperature": 1' + b"0" * 400 + b'}}',  # wrong_type: beyond a double
                     b'{"values": {"temperature": NaN}}'):  # wrong_type: not a finite number
        world.publish(telemetry_topic, document)
    for firmware in (b'"1.0\\u0000"', b'"\\ud800"'):  # wrong_type: text PostgreSQL cannot hold (NUL, lone surrogate)
        world.publish(plain_topic(world.org_id, "th-1", TopicKind.ATTRIBUTES), b'{"firmware": ' + firmware + b"}")
    lathe_data = device_topic(world.group, MessageType.DDATA, world.edge, "lathe-1")
    spindle_temp = (Metric(None, 42.0, DataType.DOUBLE, alias=1),)
    world.publish(lathe_data, encode_payload(Payload(timestamp=now_ms(), seq=2**64 - 1, metrics=spindle_temp)))
    world.publish(lathe_data, encode_payload(Payload(timestamp=2**63, seq=2, metrics=spindle_temp)))
    world.sparkplug(MessageType.DDATA, 3, (Metric("state", "run\x00", DataType.STRING),))
    world.sparkplug(MessageType.NBIRTH, 0, (Metric(BD_SEQ, 2**64 - 1, DataType.UINT64),), device=None)  # bad_payload
    totals = world.bridge.totals
    await world.until(lambda: totals["bad_payload"] + totals["wrong_type"] + totals["time_out_of_range"] >= 9)
    assert (totals["bad_payload"], totals["wrong_type"], totals["time_out_of_range"]) == (3, 5, 1)
    # and the next good messages are stored
    world.publish(telemetry_topic, b'{"seq": 7, "values": {"temperature": 21.5}}')
    world.sparkplug(MessageType.DDATA, 4, (Metric(None, 41.0, DataType.DOUBLE, alias=1),))

    async def both_stored() -> bool:
        return (("temperature", 21.5) in await stored(engine, world.sensor_id)
                and ("spindle_temp", 41.0) in await stored(engine, world.lathe_id))

    await world.until(both_stored)
    assert await stored(engine, world.sensor_id) == [("temperature", 21.5)]


async def command(world: World, device_id: uuid.UUID, name: str, params: dict) -> uuid.UUID:
    async with world.sessionmaker() as session, session.begin():
        requested = await commands.request_command(session, actor=Actor(org_id=world.org_id), device_id=device_id,
                                                   name=name, params=params, timeout_seconds=60)
    return requested.correlation_id


async def command_status(world: World, correlation_id: uuid.UUID) -> str | None:
    async with world.sessionmaker() as session:
        return await session.scalar(select(DeviceCommand.status).where(DeviceCommand.correlation_id == correlation_id))


async def test_commands_go_out_as_json_and_dcmd_and_json_answers_are_recorded(world: World):
    # when a plain device and a Sparkplug device are each sent a command
    sensor_command = await command(world, world.sensor_id, "set_report_interval", {"seconds": 10})
    lathe_command = await command(world, world.lathe_id, "set_feed_override", {"percent": 90})
    await world.until(lambda: len([t for t, _ in world.received if "CMD" in t or t.endswith("/commands")]) >= 2)
    # then the plain device gets JSON on its commands topic
    (body,) = [json.loads(p) for t, p in world.received if t.endswith("/th-1/commands")]
    assert body == {"correlation_id": str(sensor_command), "name": "set_report_interval", "params": {"seconds": 10}}
    # and the lathe's edge node a DCMD with the parameter and the correlation id as metrics
    (dcmd,) = [decode_payload(p) for t, p in world.received if "/DCMD/" in t]
    assert {m.name: m.value for m in dcmd.metrics} == {
        "Command/set_feed_override/CorrelationId": str(lathe_command), "Command/set_feed_override/percent": 90}
    assert await command_status(world, sensor_command) == "sent"
    # when the device answers, with a detail PostgreSQL's JSON could not hold as sent (NUL, a lone surrogate)
    world.publish(plain_topic(world.org_id, "th-1", TopicKind.COMMAND_ACK), json.dumps(
        {"correlation_id": str(sensor_command), "ok": True, "detail": "done\x00 \ud800"}).encode())

    async def acknowledged() -> bool:
        return await command_status(world, sensor_command) == "acknowledged"

    # then the command is acknowledged, with what of the detail can be kept
    await world.until(acknowledged)
    async with world.sessionmaker() as session:
        result = await session.scalar(
            select(DeviceCommand.result).where(DeviceCommand.correlation_id == sensor_command))
    assert result == {"ok": True, "detail": "done ?"}


@pytest.fixture
async def lathe_plc() -> AsyncIterator[ModbusPlcServer]:
    """The lathe's PLC (Modbus unit 1) that the edge agent polls and writes commands to."""
    server = ModbusPlcServer(free_port(), {1: load_device_types()["cnc_lathe"]})
    await server.start()
    yield server
    await server.stop()


def edge_agent(world: World, plc: ModbusPlcServer, tmp_path: Path, primary_host_id: str | None = None) -> EdgeAgent:
    """The world's edge node "edge-1" as a real edge agent, in front of the lathe's PLC."""
    config = EdgeConfig.model_validate({
        "group_id": world.group, "edge_node_id": world.edge, "spool_path": tmp_path / "spool.sqlite",
        "primary_host_id": primary_host_id,
        "modbus": [{"device_id": "lathe-1", "type": "cnc_lathe", "unit": 1, "host": "127.0.0.1", "port": plc.port,
                    "poll_interval_s": 0.05, "offline_after": 2}],
    })
    return EdgeAgent(config, TEST_BROKER)


async def test_a_command_through_the_api_reaches_the_plc_and_is_acknowledged_in_sparkplug(
    world: World, committed_client: AsyncClient, lathe_plc: ModbusPlcServer, tmp_path: Path,
):
    # given the lathe's edge agent is born to the bridge, and a manager of the lathe's organization
    async with world.sessionmaker() as session, session.begin():
        member = await make_member(session, org=await session.get(Organization, world.org_id))
    async with running(edge_agent(world, lathe_plc, tmp_path)):
        await world.until(lambda: world.bridge.totals["accepted"] >= 2)  # NBIRTH, DBIRTH
        # when the manager commands a feed override through the API
        response = await committed_client.post(
            f"/api/v1/iot/devices/{world.lathe_id}/commands", json={"name": "set_feed_override",
                                                                    "params": {"percent": 90}, "timeout_seconds": 60},
            headers=member.headers | {"Idempotency-Key": uuid.uuid4().hex})
        assert response.status_code == 202, response.text
        correlation_id = uuid.UUID(response.json()["correlation_id"])

        async def acknowledged() -> bool:
            return await command_status(world, correlation_id) == "acknowledged"

        # then the bridge sends the DCMD, the agent writes the register and answers in a DDATA
        await world.until(acknowledged)
        assert list(await lathe_plc.holding(1, 100)) == [90]
    listed = await committed_client.get(f"/api/v1/iot/devices/{world.lathe_id}/commands", headers=member.headers)
    assert listed.json()[0]["result"] == {"ok": True, "detail": ""}


async def stored_value(world: World, engine: AsyncEngine, key: str, value: float) -> bool:
    return (key, value) in await stored(engine, world.lathe_id)


async def test_a_bridge_without_the_nodes_session_asks_for_one_rebirth_then_stores_the_data(
    world: World, engine: AsyncEngine, lathe_plc: ModbusPlcServer, tmp_path: Path,
):
    # given an edge agent (no primary host) born to the bridge
    async with running(edge_agent(world, lathe_plc, tmp_path)) as agent:
        await world.until(lambda: world.bridge.totals["accepted"] >= 2)
        # when the bridge restarts without the saved session (as if the NBIRTH had never reached it)
        await world.running.stop()
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM iot_edge_sessions WHERE group_id = :g"), {"g": world.group})
        await world.start_new_bridge()
        await lathe_plc.set_values(1, {"good_count": 11})
        # then the bridge refuses the data without a birth and asks the node for a rebirth, which it sends
        await world.until(lambda: agent.node.counters.rebirths == 1)
        assert world.bridge.totals["no_birth"] >= 1
        # and data from then on is stored
        await lathe_plc.set_values(1, {"good_count": 12})
        await world.until(lambda: stored_value(world, engine, "good_count", 12.0))
        assert agent.node.counters.rebirths == 1
        assert len([t for t, _ in world.received if t == f"spBv1.0/{world.group}/NCMD/{world.edge}"]) == 1


async def test_with_the_bridge_as_primary_host_data_waits_in_the_spool_while_it_restarts(
    world: World, engine: AsyncEngine, lathe_plc: ModbusPlcServer, tmp_path: Path,
):
    # given an edge agent publishing only while the bridge's STATE is online
    agent = edge_agent(world, lathe_plc, tmp_path, primary_host_id=world.bridge.settings.iot_host_id)
    async with running(agent):
        await world.until(lambda: world.bridge.totals["accepted"] >= 2)
        # when the bridge stops (STATE offline) and the lathe counts a part meanwhile
        await world.running.stop()
        await world.until(lambda: not agent.node.live)
        await lathe_plc.set_values(1, {"good_count": 21})
        spool = Spool(tmp_path / "spool.sqlite")
        await world.until(lambda: spool.pending_count() >= 1)
        # then the reading waits in the spool; once a bridge is back, the node is born again and replays it
        await world.start_new_bridge()
        await world.until(lambda: stored_value(world, engine, "good_count", 21.0))
        await world.until(lambda: spool.pending_count() == 0)
        spool.close()


async def test_a_bridge_whose_broker_has_gone_stops_without_an_error(world: World):
    # given a bridge connected to a broker of its own
    port = free_port()
    broker = start_embedded_broker(port)
    old = world.bridge
    running = await RunningBridge.start(Bridge(old.settings, old.sessionmaker, old.redis,
                                               BrokerAddress("127.0.0.1", port), persistent_session=False,
                                               topic_filters=old.topic_filters))
    try:
        # when the broker dies (its connections closed at once), and then the bridge is told to stop
        broker.kill()
        broker.wait()
        await eventually(lambda: not running.bridge._client.is_connected())  # type: ignore[union-attr]
    finally:
        await running.stop()
    # then it has stopped cleanly: the will it left at connect stands for the STATE offline it could not send
    assert running.task.exception() is None
