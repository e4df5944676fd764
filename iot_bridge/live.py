"""Live device state in Redis: latest values, online flags, message rate, and a channel per device for SSE.

Keys are per organization (``iot:{org}:…``) so a page reads only its own tenant's state; the bridge
writes them after each committed batch, pages read them (and subscribe to ``iot:live:{device}``, which the
bridge publishes to only while someone listens).
"""

import datetime as dt
import math
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from iot_bridge.telemetry import TelemetryRow

RATE_WINDOW_SECONDS = 10
ONLINE_REWRITE_SECONDS = 30.0
LIVE_CHANNEL_PREFIX = "iot:live:"
WATCHED_CHECK_SECONDS = 1.0
REJECTED = "iot:rejected"  # platform-wide counts of refused messages by reason
OnlineFlags = dict[uuid.UUID, tuple[uuid.UUID, bool]]  # device → (its organization, online)


def latest_key(org_id: uuid.UUID) -> str:
    """An organization's latest values: one hash, a field per device (``{key: [ms, value]}`` as JSON)."""
    return f"iot:{org_id}:latest"


def online_key(org_id: uuid.UUID) -> str:
    return f"iot:{org_id}:online"


def rate_key(org_id: uuid.UUID, second: int) -> str:
    return f"iot:{org_id}:msgs:{second}"


def live_channel(device_id: uuid.UUID) -> str:
    return f"{LIVE_CHANNEL_PREFIX}{device_id}"


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


class WatchedChannels:
    """The live channels someone listens to (a device page open), asked of Redis at most once a second.

    Publishing every device's readings, watched or not, cost the bridge a Redis command per device per batch
    (with the latest values and the online flags, the Redis update was 29 % of its samples at 5,000 msg/s).
    A page that starts listening gets readings within a second; until then it shows the latest values, which
    are always kept. ``PUBSUB CHANNELS`` lists channels with a subscriber (not pattern subscriptions), on the
    Redis node asked.
    """

    def __init__(self) -> None:
        self._channels: frozenset[str] = frozenset()
        self._asked_at = -math.inf

    async def channels(self, redis: Redis) -> frozenset[str]:
        if time.monotonic() - self._asked_at >= WATCHED_CHECK_SECONDS:
            self._channels = frozenset(_text(c) for c in await redis.pubsub_channels(f"{LIVE_CHANNEL_PREFIX}*"))
            self._asked_at = time.monotonic()
        return self._channels


class LivePublisher:
    """What the bridge writes to Redis after each committed batch, in one pipeline per batch.

    Per organization, not per device: at 5,000 msg/s a batch names about as many devices as it holds
    messages, and a command per device (its latest values, its online flag) was a quarter of the bridge's
    samples. A device's latest values are one field of its organization's hash, all its keys in one JSON
    document: the publisher keeps them in memory (read back from Redis the first time it sees a device) and
    writes the whole document when any key changes. An online flag is written when it changes, and again
    every ``ONLINE_REWRITE_SECONDS`` so that flags Redis lost (a restart without persistence) come back.
    """

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._watched = WatchedChannels()
        self._latest: dict[uuid.UUID, dict[str, list[Any]]] = {}  # device → key → [ms, value]
        self._flags_written: dict[uuid.UUID, tuple[bool, float]] = {}  # device → (flag, monotonic time)

    async def publish_batch(self, *, rows: Sequence[TelemetryRow], online: OnlineFlags,
                            rejected: dict[str, int], now: dt.datetime) -> None:
        """``online``: the devices the batch heard from or found silent."""
        watched = await self._watched.channels(self.redis)
        batch = _latest_by_device(rows)
        await self._recall([(device_id, latest.org_id) for device_id, latest in batch.items()
                            if device_id not in self._latest])
        flags = self._flags_to_write(online)
        pipe = self.redis.pipeline(transaction=False)
        documents: dict[uuid.UUID, dict[FieldT, EncodableT]] = defaultdict(dict)  # org → device → JSON
        counts: Counter[uuid.UUID] = Counter()  # org → rows
        for device_id, latest in batch.items():
            merged = self._latest[device_id]
            for key, reading in latest.values.items():
                _keep_newest(merged, key, reading)
            documents[latest.org_id][str(device_id)] = orjson.dumps(merged)
            counts[latest.org_id] += latest.rows
            if watched and (channel := live_channel(device_id)) in watched:
                pipe.publish(channel, orjson.dumps(latest.values))
        for org_id, mapping in documents.items():
            pipe.hset(latest_key(org_id), mapping=mapping)
        second = int(now.timestamp())
        for org_id, count in counts.items():
            pipe.incrby(rate_key(org_id, second), count)
            pipe.expire(rate_key(org_id, second), RATE_WINDOW_SECONDS * 6)
        for org_id, mapping in _flags_by_org(flags).items():
            pipe.hset(online_key(org_id), mapping=mapping)
        for reason, count in rejected.items():
            pipe.hincrby(REJECTED, reason, count)
        await pipe.execute()
        written_at = time.monotonic()
        self._flags_written.update((device_id, (flag, written_at)) for device_id, (_, flag) in flags.items())

    async def _recall(self, devices: list[tuple[uuid.UUID, uuid.UUID]]) -> None:
        """The latest values Redis holds of devices seen for the first time (device, org): a batch with some of
        a device's keys must not write over the others."""
        if not devices:
            return
        pipe = self.redis.pipeline(transaction=False)
        for device_id, org_id in devices:
            pipe.hget(latest_key(org_id), str(device_id))
        for (device_id, _), document in zip(devices, await pipe.execute(), strict=True):
            self._latest[device_id] = orjson.loads(document) if document is not None else {}

    def _flags_to_write(self, online: OnlineFlags) -> OnlineFlags:
        """The flags of ``online`` that changed since written, or were written too long ago."""
        written, stale_before = self._flags_written, time.monotonic() - ONLINE_REWRITE_SECONDS
        return {device_id: entry for device_id, entry in online.items()
                if (last := written.get(device_id)) is None or last[0] != entry[1] or last[1] < stale_before}


@dataclass(slots=True)
class _DeviceLatest:
    org_id: uuid.UUID
    values: dict[str, list[Any]] = field(default_factory=dict)  # key → [ms, value], the newest in the batch
    rows: int = 0


def _latest_by_device(rows: Sequence[TelemetryRow]) -> dict[uuid.UUID, _DeviceLatest]:
    latest: dict[uuid.UUID, _DeviceLatest] = {}
    times: dict[dt.datetime, int] = {}  # a message's readings mostly share one time: converted once
    for row in rows:
        if (device := latest.get(row.device_id)) is None:
            device = latest[row.device_id] = _DeviceLatest(row.org_id)
        if (ms := times.get(row.ts)) is None:
            ms = times[row.ts] = _ms(row.ts)
        _keep_newest(device.values, row.key, [ms, row.value_num if row.value_text is None else row.value_text])
        device.rows += 1
    return latest


def _keep_newest(values: dict[str, list[Any]], key: str, reading: list[Any]) -> None:
    """``reading`` ([ms, value]) as the key's latest unless a later one is there: history replayed from an edge
    spool comes after newer readings."""
    if (shown := values.get(key)) is None or shown[0] <= reading[0]:
        values[key] = reading


def _flags_by_org(flags: OnlineFlags) -> dict[uuid.UUID, dict[FieldT, EncodableT]]:
    by_org: dict[uuid.UUID, dict[FieldT, EncodableT]] = defaultdict(dict)
    for device_id, (org_id, flag) in flags.items():
        by_org[org_id][str(device_id)] = int(flag)
    return by_org


async def latest_values(redis: Redis, *, org_id: uuid.UUID, device_id: uuid.UUID) -> dict[str, tuple[int, Any]]:
    """Key → (ms timestamp, value) of a device's last readings."""
    document = await redis.hget(latest_key(org_id), str(device_id))
    return {key: (ms, value) for key, (ms, value) in orjson.loads(document).items()} if document else {}


async def online_flags(redis: Redis, *, org_id: uuid.UUID) -> dict[uuid.UUID, bool]:
    return {uuid.UUID(_text(k)): _text(v) == "1" for k, v in (await redis.hgetall(online_key(org_id))).items()}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def message_rate(redis: Redis, *, org_id: uuid.UUID, now: dt.datetime) -> float:
    """Messages per second over the last full window."""
    second = int(now.timestamp())
    counts = await redis.mget([rate_key(org_id, s) for s in range(second - RATE_WINDOW_SECONDS, second)])
    return sum(int(c) for c in counts if c is not None) / RATE_WINDOW_SECONDS
