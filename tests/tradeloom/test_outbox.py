"""The outbox: events commit with the business change, reach RQ after commit, survive a Redis outage."""

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
import redis
from httpx import AsyncClient
from rq import SimpleWorker
from sqlalchemy import Engine, create_engine, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.factories import make_member, site_body
from tradeloom.db import driver_url, make_sessionmaker, utcnow
from tradeloom.outbox.dispatcher import backoff, dispatch_due
from tradeloom.outbox.models import OutboxEvent
from tradeloom.outbox.service import emit
from tradeloom.outbox.subscriptions import subscribe, unsubscribe

JOB = "tests.tradeloom.jobs_for_tests.record_delivery"
BATCH_JOB = "tests.tradeloom.jobs_for_tests.record_batch"
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def sync_engine(database_url: str, engine: AsyncEngine) -> Iterator[Engine]:
    """The dispatcher's owner connection; outbox rows are cleaned up after each test."""
    sync = create_engine(driver_url(database_url))
    yield sync
    with sync.begin() as conn:
        conn.execute(text("TRUNCATE outbox, sites, audit_log, memberships, users, organizations CASCADE"))
    sync.dispose()


@pytest.fixture
def site_subscription() -> Iterator[None]:
    subscribe("site.*", JOB)
    yield
    unsubscribe("site.*", JOB)


def run_queued_jobs(redis_client: redis.Redis) -> None:
    SimpleWorker(["default"], connection=redis_client).work(burst=True)


async def create_site_committed(committed_client: AsyncClient, engine: AsyncEngine, code: str) -> None:
    async with make_sessionmaker(engine)() as setup, setup.begin():
        admin = await make_member(setup)
    response = await committed_client.post("/api/v1/sites", json=site_body(code), headers=admin.headers)
    assert response.status_code == 201


class TestDispatch:
    async def test_a_committed_event_is_delivered_once(
        self, committed_client: AsyncClient, engine: AsyncEngine, sync_engine: Engine,
        redis_client: redis.Redis, site_subscription: None,
    ) -> None:
        # given a site created through the API (its event is in the outbox)
        await create_site_committed(committed_client, engine, "OUT-1")
        # when the dispatcher runs twice and the worker works the queue
        assert dispatch_due(sync_engine, redis_client) == 1
        assert dispatch_due(sync_engine, redis_client) == 0
        run_queued_jobs(redis_client)
        # then the consumer saw the event exactly once
        deliveries = redis_client.hgetall("test:deliveries")
        assert list(deliveries.values()) == [b"site.created"]
        with sync_engine.connect() as conn:
            assert conn.scalar(select(OutboxEvent.dispatched_at).where(OutboxEvent.topic == "site.created"))

    async def test_an_event_of_a_rolled_back_transaction_is_never_sent(
        self, engine: AsyncEngine, sync_engine: Engine, redis_client: redis.Redis, site_subscription: None,
    ) -> None:
        async with make_sessionmaker(engine)() as session, session.begin():
            await emit(session, org_id=uuid.uuid4(), topic="site.created", payload={"site_id": "x"})
            await session.rollback()
        assert dispatch_due(sync_engine, redis_client) == 0
        assert redis_client.llen("rq:queue:default") == 0

    async def test_a_second_delivery_of_the_same_event_is_harmless(
        self, committed_client: AsyncClient, engine: AsyncEngine, sync_engine: Engine,
        redis_client: redis.Redis, site_subscription: None,
    ) -> None:
        # given an event that was dispatched, then (as after a crash before marking it) made due again
        await create_site_committed(committed_client, engine, "OUT-2")
        dispatch_due(sync_engine, redis_client)
        run_queued_jobs(redis_client)
        with sync_engine.begin() as conn:
            conn.execute(update(OutboxEvent).values(dispatched_at=None))
        dispatch_due(sync_engine, redis_client)
        run_queued_jobs(redis_client)
        # then the consumer ran twice but recorded one delivery
        (event_id,) = redis_client.hkeys("test:deliveries")
        assert int(redis_client.get(f"test:delivery-attempts:{event_id.decode()}") or 0) == 2
        assert redis_client.hlen("test:deliveries") == 1


class TestBatchConsumer:
    async def test_one_job_per_batch_carries_the_matching_events(
        self, engine: AsyncEngine, sync_engine: Engine, redis_client: redis.Redis,
    ) -> None:
        # given a batch consumer of site events and three committed events, two of them about sites
        org_id = uuid.uuid4()
        async with make_sessionmaker(engine)() as session, session.begin():
            for topic in ("site.created", "order.placed", "site.updated"):
                await emit(session, org_id=org_id, topic=topic, payload={})
        with sync_engine.connect() as conn:
            first, _, last = conn.scalars(select(OutboxEvent.id).order_by(OutboxEvent.id)).all()
        subscribe("site.*", BATCH_JOB, batch=True)
        try:
            # when the dispatcher sends them (and, as after a lost mark, again)
            assert dispatch_due(sync_engine, redis_client) == 3
            with sync_engine.begin() as conn:
                conn.execute(update(OutboxEvent).values(dispatched_at=None))
            assert dispatch_due(sync_engine, redis_client) == 3
        finally:
            unsubscribe("site.*", BATCH_JOB, batch=True)
        # then one job holds both site events, under an id that the re-dispatch reused
        assert redis_client.lrange("rq:queue:default", 0, -1) == [
            f"outbox-batch-{first}-{last}-{BATCH_JOB.replace('.', '_')}".encode()] * 2
        run_queued_jobs(redis_client)
        assert redis_client.lrange("test:batches", 0, -1) == [f"{first},{last}".encode()] * 2


class TestRedisOutage:
    async def test_writes_are_accepted_and_delivery_catches_up(
        self, committed_client: AsyncClient, engine: AsyncEngine, sync_engine: Engine,
        redis_client: redis.Redis, site_subscription: None,
    ) -> None:
        # given Redis is unreachable for the dispatcher
        dead = redis.Redis.from_url(DEAD_REDIS, socket_connect_timeout=0.2)
        # when the API takes a write
        await create_site_committed(committed_client, engine, "OUT-3")
        # then dispatching fails softly and schedules a retry
        assert dispatch_due(sync_engine, dead) == 0
        with sync_engine.connect() as conn:
            event = conn.execute(select(OutboxEvent.attempts, OutboxEvent.available_at, OutboxEvent.last_error)).one()
        assert event.attempts == 1
        assert event.available_at > utcnow()
        assert "Connection refused" in (event.last_error or "") or "Error" in (event.last_error or "")
        # and once Redis is back and the backoff has passed, the event is delivered
        with sync_engine.begin() as conn:
            conn.execute(update(OutboxEvent).values(available_at=utcnow() - dt.timedelta(seconds=1)))
        assert dispatch_due(sync_engine, redis_client) == 1
        run_queued_jobs(redis_client)
        assert list(redis_client.hgetall("test:deliveries").values()) == [b"site.created"]


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n).total_seconds() for n in (0, 1, 2, 3, 10, 20)] == [1, 2, 4, 8, 300, 300]
