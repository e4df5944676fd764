"""RQ entry points for connector syncs and pushes, and the scheduler loop that queues the due ones.

The scheduler is a platform loop of ``tradeloom worker`` (like housekeeping): every minute it takes the
connectors whose ``next_sync_at`` has come (``FOR UPDATE SKIP LOCKED``, so two workers never take the same
one), moves their next time on and emits a sync request to the outbox, in one transaction.
"""

import asyncio
import datetime as dt
import logging
import threading
import uuid
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from integrations.connectors.models import Connector, ConnectorPush
from integrations.connectors.push import PUSH_REQUESTED, TOPICS, queue_pushes, run_push
from integrations.connectors.service import SYNC_REQUESTED, CallOptions
from integrations.connectors.sync import run_sync
from tradeloom.db import tenant_transaction, utcnow
from tradeloom.jobs import with_job_sessions
from tradeloom.outbox.service import emit_on
from tradeloom.outbox.subscriptions import subscribe
from tradeloom.settings import get_settings

log = logging.getLogger(__name__)
SCHEDULER_INTERVAL_SECONDS = 60.0
SYNC_JOB = "integrations.connectors.jobs.sync_connector_job"
PUSH_LEASE = dt.timedelta(minutes=10)


def sync_connector_job(event: dict[str, Any]) -> None:
    """Pull now; a missing or switched-off connector is left alone."""
    org_id, connector_id = uuid.UUID(str(event["org_id"])), uuid.UUID(str(event["payload"]["connector_id"]))
    options = CallOptions.from_settings(get_settings())
    asyncio.run(with_job_sessions(lambda sessionmaker: run_sync(
        sessionmaker, org_id=org_id, connector_id=connector_id, options=options), pool_size=3))


async def _push_for_event(sessionmaker: async_sessionmaker[AsyncSession], event: dict[str, Any],
                          options: CallOptions) -> list[str | None]:
    org_id = uuid.UUID(str(event["payload"]["buyer_org_id"]))
    async with tenant_transaction(sessionmaker, org_id=org_id) as session:
        push_ids = await queue_pushes(session, topic=event["topic"], payload=event["payload"])
    return [await run_push(sessionmaker, org_id=org_id, push_id=push_id, options=options) for push_id in push_ids]


def push_for_event(event: dict[str, Any]) -> list[str | None]:
    """Queue and send the pushes an order or invoice event calls for (the buyer's connectors); idempotent."""
    options = CallOptions.from_settings(get_settings())
    return asyncio.run(with_job_sessions(lambda sessionmaker: _push_for_event(sessionmaker, event, options),
                                         pool_size=2))


def push_job(event: dict[str, Any]) -> str | None:
    """Send one push again (the retry action, or the scheduler when its next attempt has come)."""
    org_id, push_id = uuid.UUID(str(event["org_id"])), uuid.UUID(str(event["payload"]["push_id"]))
    options = CallOptions.from_settings(get_settings())
    return asyncio.run(with_job_sessions(lambda sessionmaker: run_push(
        sessionmaker, org_id=org_id, push_id=push_id, options=options), pool_size=2))


def queue_due_pushes(engine: Engine, lease: dt.timedelta = PUSH_LEASE) -> int:
    """Emit a push request for every pending push whose next attempt has come (as the owner: all tenants).

    Its next attempt moves on by ``lease`` so it is not queued again while the job waits; the job sets the
    real one."""
    now = utcnow()
    with engine.begin() as conn:
        due = conn.execute(select(ConnectorPush.id, ConnectorPush.org_id).where(
            ConnectorPush.status == "pending", ConnectorPush.next_attempt_at <= now,
        ).order_by(ConnectorPush.next_attempt_at).limit(500).with_for_update(skip_locked=True)).all()
        for push_id, org_id in due:
            conn.execute(update(ConnectorPush).where(ConnectorPush.id == push_id).values(next_attempt_at=now + lease))
            emit_on(conn, org_id=org_id, topic=PUSH_REQUESTED, payload={"push_id": str(push_id)})
    return len(due)


def subscribe_jobs() -> None:
    """Called by the composition root: syncs, pushes on document events, and push retries."""
    subscribe(SYNC_REQUESTED, SYNC_JOB, queue="low")
    subscribe(PUSH_REQUESTED, f"{__name__}.push_job", queue="low")
    for topic in TOPICS:
        subscribe(topic, f"{__name__}.push_for_event", queue="low")


def queue_due_syncs(engine: Engine) -> int:
    """Emit a sync request for every connector that is due (as the owner: all tenants); returns how many."""
    now = utcnow()
    with engine.begin() as conn:
        due = conn.execute(select(Connector.id, Connector.org_id, Connector.schedule_minutes).where(
            Connector.is_active, Connector.schedule_minutes.is_not(None), Connector.next_sync_at <= now,
        ).with_for_update(skip_locked=True)).all()
        for connector_id, org_id, minutes in due:
            conn.execute(update(Connector).where(Connector.id == connector_id).values(
                next_sync_at=now + dt.timedelta(minutes=minutes or 0)))
            emit_on(conn, org_id=org_id, topic=SYNC_REQUESTED, payload={"connector_id": str(connector_id)})
    return len(due)


def run_scheduler(engine: Engine, stop: threading.Event | None = None,
                  interval: float = SCHEDULER_INTERVAL_SECONDS) -> None:
    """Queue due syncs every ``interval`` seconds until ``stop`` is set."""
    stop = stop or threading.Event()
    while not stop.wait(interval):
        try:
            queued, pushes = queue_due_syncs(engine), queue_due_pushes(engine)
            if queued or pushes:
                log.info("connector syncs and pushes queued", extra={"count": queued, "pushes": pushes})
        except Exception:
            log.exception("connector scheduler failed")
