"""The live state the bridge writes to Redis after each batch: latest values per organization, online flags
written when they change (and again after a while), message counts."""

import datetime as dt
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from iot_bridge import live
from iot_bridge.telemetry import TelemetryRow

ORG, OTHER_ORG = uuid.uuid4(), uuid.uuid4()
LATHE, SENSOR = uuid.uuid4(), uuid.uuid4()
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


def reading(org_id: uuid.UUID, device_id: uuid.UUID, key: str, value: float | str, seconds: int = 0) -> TelemetryRow:
    return TelemetryRow.of(org_id=org_id, device_id=device_id, key=key, ts=NOW + dt.timedelta(seconds=seconds),
                           value=value, seq=None, historical=False)


async def test_latest_values_keep_each_key_last_reading_per_device(redis: Redis):
    publisher = live.LivePublisher(redis)
    await publisher.publish_batch(rows=[
        reading(ORG, LATHE, "spindle_temp", 40.0), reading(ORG, LATHE, "spindle_temp", 41.5, seconds=1),
        reading(ORG, LATHE, "program", "O1234"), reading(OTHER_ORG, SENSOR, "temperature", 21.5),
    ], online={}, rejected={}, now=NOW)
    # a later batch with one key of the lathe leaves its other key as it was
    await publisher.publish_batch(rows=[reading(ORG, LATHE, "spindle_temp", 42.0, seconds=2)], online={},
                                  rejected={}, now=NOW + dt.timedelta(seconds=2))
    lathe_ms = int(NOW.timestamp() * 1000)
    assert await live.latest_values(redis, org_id=ORG, device_id=LATHE) \
        == {"spindle_temp": (lathe_ms + 2000, 42.0), "program": (lathe_ms, "O1234")}
    # each organization's values are its own
    assert await live.latest_values(redis, org_id=ORG, device_id=SENSOR) == {}
    assert (await live.latest_values(redis, org_id=OTHER_ORG, device_id=SENSOR))["temperature"][1] == 21.5
    assert await live.message_rate(redis, org_id=ORG, now=NOW + dt.timedelta(seconds=10)) == 4 / 10


async def test_history_replayed_from_an_edge_spool_does_not_replace_newer_latest_values(redis: Redis):
    publisher = live.LivePublisher(redis)
    await publisher.publish_batch(rows=[reading(ORG, LATHE, "spindle_temp", 45.0, seconds=60)], online={},
                                  rejected={}, now=NOW)
    # the spool's readings of the minute before come after it, in this batch and the next
    history = [reading(ORG, LATHE, "spindle_temp", 40.0 + i, seconds=i)._replace(historical=True) for i in range(3)]
    await publisher.publish_batch(rows=[*history, reading(ORG, LATHE, "spindle_temp", 46.0, seconds=61),
                                        history[0]], online={}, rejected={}, now=NOW)
    await publisher.publish_batch(rows=history, online={}, rejected={}, now=NOW)
    assert (await live.latest_values(redis, org_id=ORG, device_id=LATHE))["spindle_temp"][1] == 46.0


async def test_a_restarted_bridge_keeps_the_latest_values_of_keys_its_batch_does_not_name(redis: Redis):
    await live.LivePublisher(redis).publish_batch(
        rows=[reading(ORG, LATHE, "spindle_temp", 40.0), reading(ORG, LATHE, "program", "O1234")],
        online={}, rejected={}, now=NOW)
    # a new publisher (the bridge restarted) hears of one key of the lathe
    await live.LivePublisher(redis).publish_batch(rows=[reading(ORG, LATHE, "spindle_temp", 45.0, seconds=5)],
                                                  online={}, rejected={}, now=NOW)
    latest = await live.latest_values(redis, org_id=ORG, device_id=LATHE)
    assert (latest["spindle_temp"][1], latest["program"][1]) == (45.0, "O1234")


async def test_an_online_flag_is_written_when_it_changes_and_again_after_a_while(
        redis: Redis, monkeypatch: pytest.MonkeyPatch):
    publisher = live.LivePublisher(redis)

    async def batch(online: bool) -> dict[uuid.UUID, bool]:
        await publisher.publish_batch(rows=[], online={LATHE: (ORG, online)}, rejected={}, now=NOW)
        return await live.online_flags(redis, org_id=ORG)

    assert await batch(online=True) == {LATHE: True}
    # Redis loses the flag (a restart without persistence): an unchanged flag is not written again at once...
    await redis.delete(live.online_key(ORG))
    assert await batch(online=True) == {}
    # ...a changed one is...
    assert await batch(online=False) == {LATHE: False}
    # ...and an unchanged one is, once it was written long enough ago
    await redis.delete(live.online_key(ORG))
    monkeypatch.setattr(live, "ONLINE_REWRITE_SECONDS", 0.0)
    assert await batch(online=False) == {LATHE: False}
