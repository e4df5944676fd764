"""RQ entry point for a connector sync, and the scheduler loop that queues the due ones.

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

from integrations.connectors.models import Connector
from integrations.connectors.service import SYNC_REQUESTED, CallOptions
from integrations.connectors.sync import run_sync
from tradeloom.db import utcnow
from tradeloom.jobs import with_job_sessions
from tradeloom.outbox.service import emit_on
from tradeloom.settings import get_settings

log = logging.getLogger(__name__)
SCHEDULER_INTERVAL_SECONDS = 60.0


def sync_connector_job(event: dict[str, Any]) -> None:
    """Pull now; a missing or switched-off connector is left alone."""
    org_id, connector_id = uuid.UUID(str(event["org_id"])), uuid.UUID(str(event["payload"]["connector_id"]))
    options = CallOptions.from_settings(get_settings())
    asyncio.run(with_job_sessions(lambda sessionmaker: run_sync(
        sessionmaker, org_id=org_id, connector_id=connector_id, options=options), pool_size=3))


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
            queued = queue_due_syncs(engine)
            if queued:
                log.info("connector syncs queued", extra={"count": queued})
        except Exception:
            log.exception("connector scheduler failed")
