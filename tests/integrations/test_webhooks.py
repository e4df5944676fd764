"""Webhooks out: SSRF guard, signed delivery to a real receiver, retries, dead letters, auto-disable, replay."""

import datetime as dt
import importlib
import uuid
from collections.abc import Iterator

import pytest
import redis
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from httpx import AsyncClient
from rq import Queue, SimpleWorker
from rq.registry import ScheduledJobRegistry
from sqlalchemy import create_engine, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from integrations.webhooks.jobs import DISABLE_AFTER_FAILURES, deliver, fan_out_batch
from integrations.webhooks.models import WebhookDelivery, WebhookSubscription
from integrations.webhooks.service import DELIVERY_REQUESTED, open_secret
from integrations.webhooks.signing import signature_header, signature_is_valid
from tests.factories import Member, make_member, site_body
from tests.integrations.conftest import Receiver
from tradeloom import jobs
from tradeloom.db import driver_url, make_sessionmaker, utcnow
from tradeloom.outbox.dispatcher import dispatch_due
from tradeloom.outbox.models import OutboxEvent
from tradeloom.outbox.subscriptions import subscribe, unsubscribe
from tradeloom.settings import Settings, get_settings

FAN_OUT = "integrations.webhooks.jobs.fan_out_batch"


@pytest.fixture
def job_environment(monkeypatch: pytest.MonkeyPatch, database_url: str, redis_url: str) -> Iterator[None]:
    """RQ jobs read the process settings: point them at this worker's database and Redis."""
    monkeypatch.setenv("TRADELOOM_DATABASE_URL", database_url)
    monkeypatch.setenv("TRADELOOM_REDIS_URL", redis_url)
    monkeypatch.setenv("TRADELOOM_WEBHOOK_ALLOWED_HOSTS", '["127.0.0.1"]')
    get_settings.cache_clear()
    jobs.sync_engine.cache_clear()
    subscribe("*", FAN_OUT, batch=True)
    subscribe(DELIVERY_REQUESTED, "integrations.webhooks.jobs.deliver_requested")
    yield
    unsubscribe("*", FAN_OUT, batch=True)
    unsubscribe(DELIVERY_REQUESTED, "integrations.webhooks.jobs.deliver_requested")
    jobs.sync_engine().dispose()
    jobs.sync_engine.cache_clear()
    get_settings.cache_clear()


@pytest.fixture
def allow_loopback(committed_client: AsyncClient, test_settings: Settings) -> None:
    app = committed_client._transport.app  # type: ignore[attr-defined]
    app.state.settings = test_settings.model_copy(update={"webhook_allowed_hosts": ["127.0.0.1"]})


async def committed_admin(engine: AsyncEngine) -> Member:
    async with make_sessionmaker(engine)() as setup, setup.begin():
        return await make_member(setup)


async def subscribed(client: AsyncClient, admin: Member, url: str, events: list[str]) -> dict:
    response = await client.post("/api/v1/webhooks", json={"url": url, "event_types": events}, headers=admin.headers)
    assert response.status_code == 201, response.text
    return response.json()


def run_jobs(redis_client: redis.Redis) -> None:
    SimpleWorker(["default"], connection=redis_client).work(burst=True)


class TestSsrfGuard:
    @pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "http://10.1.2.3/x", "http://[::1]/x",
                                     "http://169.254.169.254/latest/meta-data", "ftp://example.com/x",
                                     "http://user:pw@example.com/x"])
    async def test_internal_or_odd_targets_are_refused(self, client: AsyncClient, session: AsyncSession,
                                                       url: str) -> None:
        admin = await make_member(session)
        response = await client.post("/api/v1/webhooks", json={"url": url, "event_types": ["*"]},
                                     headers=admin.headers)
        assert response.status_code == 422
        assert response.json()["code"] in ("webhook_target_forbidden", "webhook_url_invalid")


class TestDelivery:
    async def test_an_event_reaches_the_receiver_signed(
        self, committed_client: AsyncClient, engine: AsyncEngine, redis_client: redis.Redis, database_url: str,
        receiver: Receiver, job_environment: None, allow_loopback: None,
    ) -> None:
        # given a subscription to site events
        admin = await committed_admin(engine)
        subscription = await subscribed(committed_client, admin, receiver.url, ["site.*"])
        # when a site is created and the outbox and jobs run
        await committed_client.post("/api/v1/sites", json=site_body("HOOK-1"), headers=admin.headers)
        dispatch_due(jobs.sync_engine(), redis_client)
        run_jobs(redis_client)
        # then the receiver got one signed delivery of site.created
        ((headers, body),) = receiver.requests
        assert headers["tradeloom-event"] == "site.created"
        assert signature_is_valid(subscription["secret"], body, headers["tradeloom-signature"])
        assert b'"code":"HOOK-1"' in body
        log = (await committed_client.get(f"/api/v1/webhooks/{subscription['id']}/deliveries",
                                          headers=admin.headers)).json()
        assert [(d["status"], d["attempts"], d["last_status_code"]) for d in log] == [("delivered", 1, 200)]

    async def test_a_failing_receiver_gets_retries_with_backoff(
        self, committed_client: AsyncClient, engine: AsyncEngine, redis_client: redis.Redis,
        receiver: Receiver, job_environment: None, allow_loopback: None,
    ) -> None:
        receiver.status = 500
        admin = await committed_admin(engine)
        subscription = await subscribed(committed_client, admin, receiver.url, ["site.*"])
        await committed_client.post("/api/v1/sites", json=site_body("HOOK-2"), headers=admin.headers)
        dispatch_due(jobs.sync_engine(), redis_client)
        run_jobs(redis_client)
        log = (await committed_client.get(f"/api/v1/webhooks/{subscription['id']}/deliveries",
                                          headers=admin.headers)).json()
        (delivery,) = log
        assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == ("failed", 1, 500)
        wait = dt.datetime.fromisoformat(delivery["next_attempt_at"]) - utcnow()
        assert dt.timedelta(seconds=40) < wait < dt.timedelta(seconds=73)
        assert len(ScheduledJobRegistry(queue=Queue("default", connection=redis_client))) == 1

    async def test_after_three_days_a_delivery_is_dead(
        self, committed_client: AsyncClient, engine: AsyncEngine, redis_client: redis.Redis,
        receiver: Receiver, job_environment: None, allow_loopback: None,
    ) -> None:
        receiver.status = 503
        admin, delivery_id, _ = await attempted_delivery(committed_client, engine, redis_client, receiver)
        with jobs.sync_engine().begin() as conn:
            conn.execute(update(WebhookDelivery).values(created_at=utcnow() - dt.timedelta(days=3)))
        assert deliver(delivery_id, str(admin.org.id)) == "dead"

    async def test_a_receiver_failing_for_a_day_is_switched_off(
        self, committed_client: AsyncClient, engine: AsyncEngine, redis_client: redis.Redis,
        receiver: Receiver, job_environment: None, allow_loopback: None,
    ) -> None:
        receiver.status = 500
        admin, delivery_id, subscription_id = await attempted_delivery(committed_client, engine, redis_client,
                                                                       receiver)
        org_id = str(admin.org.id)
        with jobs.sync_engine().begin() as conn:
            conn.execute(update(WebhookSubscription).values(
                consecutive_failures=DISABLE_AFTER_FAILURES - 1, failing_since=utcnow() - dt.timedelta(hours=25)))
        assert deliver(delivery_id, org_id) == "dead"
        with jobs.sync_engine().connect() as conn:
            active, reason = conn.execute(select(WebhookSubscription.is_active, WebhookSubscription.disabled_reason)
                                          .where(WebhookSubscription.id == subscription_id)).one()
            topics = conn.scalars(select(OutboxEvent.topic).where(OutboxEvent.org_id == uuid.UUID(org_id))).all()
        assert active is False
        assert reason.startswith(f"{DISABLE_AFTER_FAILURES} failed deliveries in a row")
        assert "webhook.subscription_disabled" in topics

    async def test_fan_out_twice_creates_one_delivery(
        self, committed_client: AsyncClient, engine: AsyncEngine, redis_client: redis.Redis,
        receiver: Receiver, job_environment: None, allow_loopback: None,
    ) -> None:
        admin = await committed_admin(engine)
        await subscribed(committed_client, admin, receiver.url, ["*"])
        event = {"id": 991, "org_id": str(admin.org.id), "topic": "order.submitted", "payload": {}, "created_at": "x"}
        assert len(fan_out_batch([event])) == 1
        assert fan_out_batch([event]) == []

    async def test_replay_sends_the_same_body_again(
        self, committed_client: AsyncClient, engine: AsyncEngine, redis_client: redis.Redis,
        receiver: Receiver, job_environment: None, allow_loopback: None,
    ) -> None:
        admin, delivery_id, subscription_id = await attempted_delivery(committed_client, engine, redis_client,
                                                                       receiver)
        replay = await committed_client.post(f"/api/v1/webhooks/deliveries/{delivery_id}/replay",
                                             headers=admin.headers)
        assert replay.status_code == 202
        dispatch_due(jobs.sync_engine(), redis_client)
        run_jobs(redis_client)
        first, second = receiver.requests
        assert first[1] == second[1]
        assert first[0]["tradeloom-delivery"] != second[0]["tradeloom-delivery"]
        log = (await committed_client.get(f"/api/v1/webhooks/{subscription_id}/deliveries",
                                          headers=admin.headers)).json()
        assert [(d["is_replay"], d["status"]) for d in log] == [(True, "delivered"), (False, "delivered")]


class TestBatchFanOut:
    async def test_each_organization_gets_only_its_own_deliveries(
        self, committed_client: AsyncClient, engine: AsyncEngine, redis_client: redis.Redis,
        receiver: Receiver, job_environment: None, allow_loopback: None,
    ) -> None:
        # given two organizations, one subscribed to order events, the other to everything
        first, second = await committed_admin(engine), await committed_admin(engine)
        orders = await subscribed(committed_client, first, receiver.url, ["order.*"])
        everything = await subscribed(committed_client, second, receiver.url, ["*"])
        # when one batch carries events of both (and a delivery request, which is never fanned out)
        batch = [event(2001, first, "order.submitted"), event(2002, second, "order.submitted"),
                 event(2003, second, "site.created"), event(2004, first, "site.created"),
                 event(2005, second, DELIVERY_REQUESTED)]
        created = fan_out_batch(batch)
        # then each event went only to the matching subscriptions of its own organization
        assert deliveries_of([orders["id"], everything["id"]]) == {
            (orders["id"], 2001, str(first.org.id)), (everything["id"], 2002, str(second.org.id)),
            (everything["id"], 2003, str(second.org.id))}
        assert len(created) == 3
        assert Queue("default", connection=redis_client).count == 3

    async def test_the_same_batch_again_creates_no_duplicates(
        self, committed_client: AsyncClient, engine: AsyncEngine, redis_client: redis.Redis,
        receiver: Receiver, job_environment: None, allow_loopback: None,
    ) -> None:
        admin = await committed_admin(engine)
        subscription = await subscribed(committed_client, admin, receiver.url, ["*"])
        batch = [event(2101, admin, "order.submitted"), event(2102, admin, "order.confirmed")]
        assert len(fan_out_batch(batch)) == 2
        # a re-dispatched batch, and one overlapping it, only add what is new
        assert fan_out_batch(batch) == []
        assert len(fan_out_batch([*batch, event(2103, admin, "order.shipped")])) == 1
        assert {e for _, e, _ in deliveries_of([subscription["id"]])} == {2101, 2102, 2103}

    async def test_an_organization_without_a_matching_subscription_costs_no_insert(
        self, committed_client: AsyncClient, engine: AsyncEngine, redis_client: redis.Redis,
        receiver: Receiver, job_environment: None, allow_loopback: None,
    ) -> None:
        # given one organization with no subscription and one subscribed to other topics only
        bare, elsewhere = await committed_admin(engine), await committed_admin(engine)
        await subscribed(committed_client, elsewhere, receiver.url, ["invoice.*"])
        statements: list[str] = []

        def record(conn: object, cursor: object, statement: str, *args: object) -> None:
            statements.append(statement)

        # when a batch of their events is fanned out
        sa_event.listen(jobs.sync_engine(), "before_cursor_execute", record)
        try:
            created = fan_out_batch([event(2201, bare, "order.submitted"), event(2202, elsewhere, "order.submitted")])
        finally:
            sa_event.remove(jobs.sync_engine(), "before_cursor_execute", record)
        # then their subscriptions were read, but nothing was inserted or queued
        assert created == []
        assert statements and not [s for s in statements if s.lstrip().upper().startswith("INSERT")]
        assert Queue("default", connection=redis_client).count == 0


def event(event_id: int, member: Member, topic: str) -> dict:
    return {"id": event_id, "org_id": str(member.org.id), "topic": topic, "payload": {}, "created_at": "x"}


def deliveries_of(subscription_ids: list[str]) -> set[tuple[str, int, str]]:
    with jobs.sync_engine().connect() as conn:
        rows = conn.execute(select(WebhookDelivery.subscription_id, WebhookDelivery.event_id, WebhookDelivery.org_id)
                            .where(WebhookDelivery.subscription_id.in_([uuid.UUID(i) for i in subscription_ids])))
        return {(str(row.subscription_id), row.event_id, str(row.org_id)) for row in rows}


async def attempted_delivery(client: AsyncClient, engine: AsyncEngine, redis_client: redis.Redis,
                             receiver: Receiver) -> tuple[Member, int, uuid.UUID]:
    """A delivery made and attempted once through the real path: (admin, delivery id, subscription id)."""
    admin = await committed_admin(engine)
    subscription = await subscribed(client, admin, receiver.url, ["site.*"])
    await client.post("/api/v1/sites", json=site_body("HOOK-X"), headers=admin.headers)
    dispatch_due(jobs.sync_engine(), redis_client)
    run_jobs(redis_client)
    with jobs.sync_engine().connect() as conn:
        delivery_id = conn.scalar(select(WebhookDelivery.id))
    assert delivery_id is not None
    return admin, delivery_id, uuid.UUID(subscription["id"])


class TestStoredSecret:
    async def test_the_row_keeps_the_secret_sealed_and_a_copy_in_another_row_is_never_sent(
        self, committed_client: AsyncClient, engine: AsyncEngine, redis_client: redis.Redis,
        receiver: Receiver, job_environment: None, allow_loopback: None,
    ) -> None:
        # given two subscriptions; B's stored secret replaced by A's sealed one (someone with table access)
        admin = await committed_admin(engine)
        first = await subscribed(committed_client, admin, receiver.url, ["site.*"])
        second = await subscribed(committed_client, admin, receiver.url + "/b", ["site.*"])
        async with engine.begin() as conn:
            stored = dict((await conn.execute(select(WebhookSubscription.id, WebhookSubscription.secret))).all())
            await conn.execute(update(WebhookSubscription).where(WebhookSubscription.id == uuid.UUID(second["id"]))
                               .values(secret=stored[uuid.UUID(first["id"])]))
        # when an event is fanned out and delivered
        await committed_client.post("/api/v1/sites", json=site_body("HOOK-S"), headers=admin.headers)
        dispatch_due(jobs.sync_engine(), redis_client)
        run_jobs(redis_client)
        # then the rows held sealed secrets only, A's delivery went out signed, B's was not sent at all
        assert all(value.startswith("tlsec1:test1:") for value in stored.values())
        assert first["secret"] not in str(stored) and second["secret"] not in str(stored)
        ((headers, body),) = receiver.requests
        assert signature_is_valid(first["secret"], body, headers["tradeloom-signature"])
        log = (await committed_client.get(f"/api/v1/webhooks/{second['id']}/deliveries",
                                          headers=admin.headers)).json()
        assert [(d["status"], d["last_status_code"]) for d in log] == [("failed", None)]
        assert "signing secret does not open" in log[0]["last_error"]


def test_migration_0200_seals_plain_secrets_once_and_its_downgrade_opens_them(test_settings: Settings) -> None:
    # given a subscription stored before encryption (a plain secret), committed: the migration runs as the owner
    migration = importlib.import_module("migrations.versions.0200_seal_webhook_secrets")
    engine = create_engine(driver_url(str(test_settings.database_url)))
    subscription_id, table = uuid.uuid4(), WebhookSubscription.__table__  # type: ignore[attr-defined]
    try:
        with engine.begin() as conn:
            conn.execute(table.insert().values(
                id=subscription_id, org_id=uuid.uuid4(), url="https://erp.example.com/hooks", event_types=["*"],
                secret="whsec_legacy", is_active=True, consecutive_failures=0, version=1))

        def run(step: str) -> str:
            with engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
                getattr(migration, step)()
            with engine.begin() as conn:
                return str(conn.scalar(select(table.c.secret).where(table.c.id == subscription_id)))

        # when
        sealed = run("upgrade")
        again = run("upgrade")
        opened = run("downgrade")
        run("upgrade")  # leave the column as the migrated schema has it
        # then
        assert sealed.startswith("tlsec1:test1:") and again == sealed
        row = WebhookSubscription(id=subscription_id, secret=sealed)
        assert open_secret(row) == "whsec_legacy"
        assert opened == "whsec_legacy"
    finally:
        with engine.begin() as conn:
            conn.execute(table.delete().where(table.c.id == subscription_id))
        engine.dispose()


def test_signature_checks_like_a_receiver_would() -> None:
    header = signature_header("whsec_x", b'{"a":1}', timestamp=1_700_000_000)
    assert signature_is_valid("whsec_x", b'{"a":1}', header, now=1_700_000_100)
    assert not signature_is_valid("whsec_x", b'{"a":2}', header, now=1_700_000_100)  # body changed
    assert not signature_is_valid("whsec_y", b'{"a":1}', header, now=1_700_000_100)  # other secret
    assert not signature_is_valid("whsec_x", b'{"a":1}', header, now=1_700_000_400)  # replayed too late

