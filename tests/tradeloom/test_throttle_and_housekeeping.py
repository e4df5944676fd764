"""Sign-in throttling and the worker's clean-up of expired rows."""

import datetime as dt

import redis
from httpx import AsyncClient
from redis.asyncio import Redis as AsyncRedis
from sqlalchemy import create_engine, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.factories import PASSWORD, make_member, make_org
from tradeloom.db import driver_url, make_sessionmaker, utcnow
from tradeloom.housekeeping import purge_expired
from tradeloom.idempotency import IdempotencyRecord


async def test_ten_failures_lock_the_email_then_time_unlocks_it(client: AsyncClient, session: AsyncSession,
                                                               redis_client: redis.Redis) -> None:
    await make_member(session, email="target@example.test")
    for _ in range(10):
        failed = await client.post("/api/v1/auth/token", json={"email": "target@example.test", "password": "guess"})
        assert failed.status_code == 401
    # even the right password is refused while locked
    locked = await client.post("/api/v1/auth/token", json={"email": "target@example.test", "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["code"] == "too_many_sign_in_attempts"
    assert locked.headers["retry-after"] == "900"
    # when the window has passed (the counters expire)
    for key in redis_client.keys("tl:login-fail:*"):
        redis_client.delete(key)
    assert (await client.post("/api/v1/auth/token",
                              json={"email": "target@example.test", "password": PASSWORD})).status_code == 200


async def test_sign_in_still_works_when_redis_is_down(client: AsyncClient, session: AsyncSession) -> None:
    await make_member(session, email="calm@example.test")
    client._transport.app.state.redis = AsyncRedis.from_url(  # type: ignore[attr-defined]
        "redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    response = await client.post("/api/v1/auth/token", json={"email": "calm@example.test", "password": PASSWORD})
    assert response.status_code == 200


async def test_housekeeping_purges_only_expired_idempotency_keys(engine: AsyncEngine, database_url: str) -> None:
    async with make_sessionmaker(engine)() as setup, setup.begin():
        org = await make_org(setup)
        for key, age in (("fresh-key-1", dt.timedelta(hours=1)), ("stale-key-1", dt.timedelta(days=3))):
            await setup.execute(insert(IdempotencyRecord).values(
                org_id=org.id, key=key, request_hash="0" * 64, method="POST", path="/x", created_at=utcnow() - age))
    sync_engine = create_engine(driver_url(database_url))
    try:
        assert purge_expired(sync_engine)["idempotency_keys"] == 1
        async with engine.connect() as conn:
            assert (await conn.scalars(select(IdempotencyRecord.key))).all() == ["fresh-key-1"]
    finally:
        with sync_engine.begin() as conn:
            conn.execute(IdempotencyRecord.__table__.delete())
            conn.exec_driver_sql("TRUNCATE organizations CASCADE")
        sync_engine.dispose()
