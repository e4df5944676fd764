"""RQ plumbing: Redis connections, queue names, and the owner engine of platform loops."""

from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import TypeVar

from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from sqlalchemy import Engine, create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradeloom.db import driver_url, make_engine, make_sessionmaker
from tradeloom.settings import get_settings

QUEUES = ("high", "default", "low")
T = TypeVar("T")


def require_url(url: str | None, name: str) -> str:
    if not url:
        raise RuntimeError(
            f"TRADELOOM_{name} is not set: start the platform with `tradeloom serve` (embedded servers) "
            f"or set it to your server's URL."
        )
    return url


def redis_connection(url: str | None = None) -> Redis:
    """This process's client for the URL (the configured one by default), shared by its threads and jobs.

    A client per call meant a TCP connection and handshake per job (one per order event in the worker) and a
    socket left in TIME_WAIT for each; the shared client's pool keeps its connections, and opens new ones in a
    forked child.
    """
    return _client(require_url(url or get_settings().redis_url, "REDIS_URL"))


@lru_cache
def _client(url: str) -> Redis:
    return Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)


def async_redis(url: str | None = None) -> AsyncRedis:
    return AsyncRedis.from_url(require_url(url or get_settings().redis_url, "REDIS_URL"), socket_timeout=2,
                               socket_connect_timeout=2)


@lru_cache
def sync_engine() -> Engine:
    """The owner connection for platform loops (outbox dispatcher): not subject to RLS."""
    return create_engine(driver_url(require_url(get_settings().database_url, "DATABASE_URL")), pool_size=2)



async def with_job_sessions(work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]], *,
                            pool_size: int = 2) -> T:
    """Run one RQ job's async work on an engine of its own, disposed afterwards (each job has its own loop)."""
    engine = make_engine(require_url(get_settings().database_url, "DATABASE_URL"), pool_size=pool_size, max_overflow=0)
    try:
        return await work(make_sessionmaker(engine))
    finally:
        await engine.dispose()
