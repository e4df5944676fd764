"""Outbox consumer: events that change a supplier's facts make its cached scorecards stale."""

from typing import Any

from redis import Redis

from commerce.supplier_performance.cache import PLATFORM_GENERATION, supplier_generation
from commerce.supplier_performance.reviews import REVIEWED
from tradeloom.jobs import redis_connection
from tradeloom.outbox.subscriptions import subscribe

TOPICS = ("order.confirmed", "order.rejected", "order.sent", "order.approved", "goods.received", "return.*",
          "invoice.*", "quotation.submitted", "rfq.*", REVIEWED)
INVALIDATE_JOB = "commerce.supplier_performance.jobs.invalidate"


def subscribe_jobs() -> None:
    """Called by the composition root."""
    for topic in TOPICS:
        subscribe(topic, INVALIDATE_JOB, queue="low")


def bump(redis: Redis, event: dict[str, Any]) -> str:
    """Bump the supplier's cache generation (the platform's when the event names no supplier); a replay only
    makes a cached scorecard be computed once more."""
    supplier = (event.get("payload") or {}).get("supplier_org_id")
    counter = supplier_generation(supplier) if supplier else PLATFORM_GENERATION
    redis.incr(counter)
    return counter


def invalidate(event: dict[str, Any]) -> str:
    """The outbox job: ``bump`` on the configured Redis."""
    return bump(redis_connection(), event)
