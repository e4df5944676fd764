"""Periodic clean-up run by ``tradeloom worker``: expired idempotency records and browser sessions.

Runs as the database owner (a platform loop like the outbox dispatcher), so it is not confined by RLS.
"""

import datetime as dt
import logging
import threading

from sqlalchemy import Engine, delete, or_

from tradeloom.db import utcnow
from tradeloom.idempotency import RETENTION, IdempotencyRecord
from tradeloom.identity.models import WebSession

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 600
REVOKED_SESSION_RETENTION = dt.timedelta(days=7)


def purge_expired(engine: Engine) -> dict[str, int]:
    """Delete what no request can use any more; returns how many rows of each kind went."""
    now = utcnow()
    with engine.begin() as conn:
        keys = conn.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - RETENTION))
        sessions = conn.execute(
            delete(WebSession).where(or_(WebSession.expires_at < now - REVOKED_SESSION_RETENTION,
                                         WebSession.revoked_at < now - REVOKED_SESSION_RETENTION))
        )
    return {"idempotency_keys": keys.rowcount, "web_sessions": sessions.rowcount}


def run_housekeeping(engine: Engine, stop: threading.Event, interval: float = INTERVAL_SECONDS) -> None:
    """Purge every ``interval`` seconds until ``stop`` is set."""
    while not stop.wait(interval):
        try:
            log.info("housekeeping", extra=purge_expired(engine))
        except Exception:
            log.exception("housekeeping failed")
