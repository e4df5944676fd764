"""Background work of logistics: give back reservations of cancelled or changed orders (outbox job), and
expire reservations held too long (a worker loop, as the database owner across all suppliers)."""

import asyncio
import logging
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.service import reservations
from tradeloom.audit import Actor
from tradeloom.db import apply_tenant, make_engine, make_sessionmaker
from tradeloom.jobs import require_url
from tradeloom.outbox.subscriptions import subscribe
from tradeloom.settings import get_settings

log = logging.getLogger(__name__)
EXPIRY_INTERVAL_SECONDS = 600
# An agreed change order may reduce the lines: the supplier reserves again for what is left.
RELEASING_TOPICS = ("order.cancelled", "order.changed")


def subscribe_jobs() -> None:
    """Called by the composition root."""
    for topic in RELEASING_TOPICS:
        subscribe(topic, "commerce.logistics.jobs.release_reservations")


@asynccontextmanager
async def _session(*, org_id: uuid.UUID | None) -> AsyncIterator[AsyncSession]:
    """One transaction: as the supplier's tenant (``org_id``), or as the owner for the platform loop."""
    engine = make_engine(require_url(get_settings().database_url, "DATABASE_URL"), pool_size=1, max_overflow=0)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            if org_id is not None:
                await apply_tenant(session, org_id=org_id)
            yield session
    finally:
        await engine.dispose()


async def _release(order_id: uuid.UUID, supplier_org_id: uuid.UUID, reason: str) -> int:
    async with _session(org_id=supplier_org_id) as session:
        released = await reservations.release_order(session, actor=Actor(org_id=supplier_org_id),
                                                    order_id=order_id, reason=reason)
        return len(released)


def release_reservations(event: dict[str, Any]) -> int:
    """Give back what the order's supplier holds for it (idempotent: nothing held, nothing to do)."""
    payload = event["payload"]
    return asyncio.run(_release(uuid.UUID(payload["order_id"]), uuid.UUID(payload["supplier_org_id"]),
                                str(event["topic"])))


async def expire_once() -> int:
    async with _session(org_id=None) as session:
        return await reservations.expire_stale(session)


def run_reservation_expiry(stop: threading.Event | None = None, interval: float = EXPIRY_INTERVAL_SECONDS) -> None:
    """Expire stale reservations every ``interval`` seconds until ``stop`` is set (a worker loop)."""
    stop = stop or threading.Event()
    while not stop.wait(interval):
        try:
            log.info("logistics: reservations expired", extra={"count": asyncio.run(expire_once())})
        except Exception:
            log.exception("logistics: reservation expiry failed")
