"""Live device state in Redis: latest values, online flags, message rate, and a channel per device for SSE.

Keys are per organization (``iot:{org}:…``) so a page reads only its own tenant's state; the bridge
writes them after each committed batch, pages read them (and subscribe to ``iot:live:{device}``, which the
bridge publishes to only while someone listens).
"""

import datetime as dt
import json
import math
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Container, Sequence
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from iot_bridge.telemetry import TelemetryRow

RATE_WINDOW_SECONDS = 10
LIVE_CHANNEL_PREFIX = "iot:live:"
WATCHED_CHECK_SECONDS = 1.0
REJECTED = "iot:rejected"  # platform-wide counts of refused messages by reason


def latest_key(org_id: uuid.UUID, device_id: uuid.UUID) -> str:
    return f"iot:{org_id}:latest:{device_id}"


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


async def publish_batch(
    redis: Redis, *, rows: Sequence[TelemetryRow], online: dict[uuid.UUID, tuple[uuid.UUID, bool]],
    rejected: dict[str, int], now: dt.datetime, watched: Container[str],
) -> None:
    """One pipeline per batch: the rows' latest values, live messages on the ``watched`` channels, online
    flags (device → (org, flag)) in one command per organization."""
    latest: dict[tuple[uuid.UUID, uuid.UUID], dict[str, list[Any]]] = defaultdict(dict)
    accepted_by_org: Counter[uuid.UUID] = Counter()
    for row in rows:
        latest[row.org_id, row.device_id][row.key] = [_ms(row.ts), row.value_num if row.value_text is None
                                                      else row.value_text]
        accepted_by_org[row.org_id] += 1
    pipe = redis.pipeline(transaction=False)
    for (org_id, device_id), values in latest.items():
        pipe.hset(latest_key(org_id, device_id), mapping={k: orjson.dumps(v) for k, v in values.items()})
        if (channel := live_channel(device_id)) in watched:
            pipe.publish(channel, orjson.dumps(values))
    flags: dict[uuid.UUID, dict[FieldT, EncodableT]] = defaultdict(dict)
    for device_id, (org_id, flag) in online.items():
        flags[org_id][str(device_id)] = int(flag)
    for org_id, mapping in flags.items():
        pipe.hset(online_key(org_id), mapping=mapping)
    second = int(now.timestamp())
    for org_id, count in accepted_by_org.items():
        pipe.incrby(rate_key(org_id, second), count)
        pipe.expire(rate_key(org_id, second), RATE_WINDOW_SECONDS * 6)
    for reason, count in rejected.items():
        pipe.hincrby(REJECTED, reason, count)
    await pipe.execute()


async def latest_values(redis: Redis, *, org_id: uuid.UUID, device_id: uuid.UUID) -> dict[str, tuple[int, Any]]:
    """Key → (ms timestamp, value) of a device's last readings."""
    raw = await redis.hgetall(latest_key(org_id, device_id))
    return {_text(k): (json.loads(v)[0], json.loads(v)[1]) for k, v in raw.items()}


async def online_flags(redis: Redis, *, org_id: uuid.UUID) -> dict[uuid.UUID, bool]:
    return {uuid.UUID(_text(k)): _text(v) == "1" for k, v in (await redis.hgetall(online_key(org_id))).items()}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def message_rate(redis: Redis, *, org_id: uuid.UUID, now: dt.datetime) -> float:
    """Messages per second over the last full window."""
    second = int(now.timestamp())
    counts = await redis.mget([rate_key(org_id, s) for s in range(second - RATE_WINDOW_SECONDS, second)])
    return sum(int(c) for c in counts if c is not None) / RATE_WINDOW_SECONDS
