"""The bridge through faults: while its database is away it waits, keeps each edge node's order and loses
nothing (a real outage, ``bridge_world.database_away``, on the embedded server as on a shared one); a
message its own code fails on is refused and the shard goes on; a worker that still fails stops the bridge.
"""

import asyncio
import datetime as dt
import logging
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from iot_bridge.bridge.directory import KnownDevice
from iot_bridge.bridge.ingest import Effects, Ingestor
from iot_bridge.bridge.runner import Bridge, Inbound
from iot_bridge.plain_topics import PlainTopic, TopicKind, plain_topic
from iot_bridge.sparkplug import DataType, MessageType, Metric, state_topic
from tests.iot_bridge.bridge_world import BROKER, WAIT_SECONDS, World, database_away, node_birth, stored


async def test_what_came_while_the_database_was_away_is_stored_once_it_is_back(
        world: World, engine: AsyncEngine, database_url: str, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING, logger="iot_bridge")
    # given the database goes away before the bridge has read the registry
    async with database_away(database_url):
        # when the edge node is born and reports, and a plain sensor reports
        node_birth(world)
        world.sparkplug(MessageType.DDATA, 2, (Metric(None, 85.0, DataType.DOUBLE, alias=1),))
        world.publish(plain_topic(world.org_id, "th-1", TopicKind.TELEMETRY),
                      b'{"seq": 1, "values": {"temperature": 20.5}}')
        await world.until(lambda: "waiting for its database" in caplog.text)
    await engine.dispose()  # the pooled connections were ended too

    # then once it is back, everything is stored, and the bridge took it as data, not as refusals
    async def all_stored() -> bool:
        return (await stored(engine, world.lathe_id) == [("good_count", 0.0), ("spindle_temp", 40.0),
                                                          ("spindle_temp", 85.0)]
                and await stored(engine, world.sensor_id) == [("temperature", 20.5)])

    await world.until(all_stored)
    assert world.bridge.totals == {"accepted": 4}
    # and when it goes away again with the registry known, the next batch waits for it to come back
    async with database_away(database_url):
        world.sparkplug(MessageType.DDATA, 3, (Metric(None, 86.0, DataType.DOUBLE, alias=1),))
        await world.until(lambda: "could not store a batch" in caplog.text)
    await engine.dispose()

    async def stored_again() -> bool:
        return ("spindle_temp", 86.0) in await stored(engine, world.lathe_id)

    await world.until(stored_again)
    assert world.bridge.totals == {"accepted": 5}


async def test_a_message_the_bridge_fails_on_is_refused_and_the_next_ones_are_stored(
        world: World, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch):
    """An error in the bridge's own code (here injected) refuses that message; its shard's worker goes on."""
    take_json_telemetry = Ingestor._json_telemetry

    def failing_on_marked_reports(self: Ingestor, device: KnownDevice, topic: PlainTopic, document: dict[str, Any],
                                  effects: Effects, now: dt.datetime) -> str | None:
        if "fail" in document:
            raise RuntimeError("a bug")
        return take_json_telemetry(self, device, topic, document, effects, now)

    monkeypatch.setattr(Ingestor, "_json_telemetry", failing_on_marked_reports)
    telemetry_topic = plain_topic(world.org_id, "th-1", TopicKind.TELEMETRY)
    world.publish(telemetry_topic, b'{"fail": true, "seq": 1, "values": {"temperature": 20.0}}')
    world.publish(telemetry_topic, b'{"seq": 2, "values": {"temperature": 21.0}}')
    await world.until(lambda: world.bridge.totals["accepted"] == 1)
    assert world.bridge.totals["ingest_error"] == 1
    assert await stored(engine, world.sensor_id) == [("temperature", 21.0)]


async def test_a_worker_that_fails_stops_the_bridge_with_its_error(world: World, monkeypatch: pytest.MonkeyPatch):
    """Not a bridge running on with a shard nobody serves: the process ends and its supervisor restarts it."""
    settings = world.bridge.settings.model_copy(update={"iot_host_id": f"{world.bridge.settings.iot_host_id}-2"})
    bridge = Bridge(settings, world.sessionmaker, world.bridge.redis, BROKER, persistent_session=False,
                    topic_filters=[f"spBv1.0/{world.group}/#"])

    async def failing_batch(queue: object) -> list[Inbound]:
        raise RuntimeError("a bug outside the ingestion of a message")

    monkeypatch.setattr(bridge, "_take_batch", failing_batch)
    try:
        with pytest.raises(RuntimeError, match="a bug outside"):
            async with asyncio.timeout(WAIT_SECONDS):
                await bridge.run(asyncio.Event())
    finally:  # its last word, STATE offline, is retained on the shared broker
        world.publisher.publish(state_topic(settings.iot_host_id), b"", qos=1, retain=True).wait_for_publish(5)
