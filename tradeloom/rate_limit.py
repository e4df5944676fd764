"""Per-API-key request limits: a fixed one-minute window counted in Redis.

When Redis cannot be reached the request is let through (and logged): the limit protects the platform
from one runaway integration, it must not turn a cache outage into a full outage.
"""

import logging
import time
import uuid

from redis.asyncio import Redis
from redis.exceptions import RedisError

from tradeloom.errors import TooManyRequests

log = logging.getLogger(__name__)
WINDOW_SECONDS = 60


async def enforce_key_limit(redis: Redis, *, key_id: uuid.UUID, limit_per_minute: int) -> None:
    """429 with ``Retry-After`` once the key has made ``limit_per_minute`` requests in this minute."""
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    counter = f"tl:rate:{key_id}:{window}"
    try:
        async with redis.pipeline(transaction=False) as pipe:
            pipe.incr(counter)
            pipe.expire(counter, WINDOW_SECONDS * 2)
            used, _ = await pipe.execute()
    except RedisError:
        log.warning("rate limit unavailable: redis unreachable")
        return
    if int(used) > limit_per_minute:
        retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now))
        raise TooManyRequests(
            f"This API key is limited to {limit_per_minute} requests a minute.", code="rate_limited",
            headers={"Retry-After": str(retry_after), "X-RateLimit-Limit": str(limit_per_minute)},
        )
