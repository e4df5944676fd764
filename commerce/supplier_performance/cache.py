"""A short-lived Redis cache of rendered scorecards, made stale by outbox events (decision 0018).

A cache key carries two generation counters: the platform's and the supplier's. ``jobs.invalidate`` bumps the
supplier's counter when an event about it is dispatched (receipt, invoice, confirmation, quotation, review),
or the platform's when the event names no supplier; old entries are then never read again and expire.
Redis being down only means computing again: the cache is never the source of a figure.
"""

import logging
import uuid
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
TTL_SECONDS = 300
PLATFORM_GENERATION = "supplier_performance:generation"


def supplier_generation(supplier_org_id: uuid.UUID | str) -> str:
    return f"{PLATFORM_GENERATION}:{supplier_org_id}"


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else value or ""


async def cached(redis: Redis | None, *, supplier_org_id: uuid.UUID | None, parts: tuple[object, ...],
                 build: Callable[[], Awaitable[str]]) -> str:
    """The cached text for ``parts`` (viewer, scope, day, format …), or ``build()``'s, cached for a while."""
    if redis is None:
        return await build()
    try:
        counters = [PLATFORM_GENERATION] + ([supplier_generation(supplier_org_id)] if supplier_org_id else [])
        generations = [_text(value) or "0" for value in await redis.mget(counters)]
        key = ":".join(["supplier_performance:card", *generations, *(str(part) for part in parts)])
        hit = await redis.get(key)
        if hit is not None:
            return _text(hit)
    except RedisError:
        log.warning("supplier scorecard cache unavailable: redis unreachable")
        return await build()
    value = await build()
    try:
        await redis.set(key, value.encode(), ex=TTL_SECONDS)
    except RedisError:
        log.warning("supplier scorecard cache unavailable: redis unreachable")
    return value
