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
    """Called by the composition root. A batch consumer: one job per dispatched batch, not one per event (an RQ
    job costs its worker about a millisecond of CPU, more than the counters it bumps)."""
    for topic in TOPICS:
        subscribe(topic, INVALIDATE_JOB, queue="low", batch=True)


def bump(redis: Redis, events: list[dict[str, Any]]) -> list[str]:
    """Bump once the generation of every supplier the events name (the platform's for an event naming none);
    a replay only makes a cached scorecard be computed once more. Returns the counters bumped."""
    counters = sorted({_counter(event) for event in events})
    with redis.pipeline(transaction=False) as pipe:
        for counter in counters:
            pipe.incr(counter)
        pipe.execute()
    return counters


def _counter(event: dict[str, Any]) -> str:
    supplier = (event.get("payload") or {}).get("supplier_org_id")
    return supplier_generation(supplier) if supplier else PLATFORM_GENERATION


def invalidate(events: list[dict[str, Any]]) -> list[str]:
    """The outbox job: ``bump`` on the configured Redis."""
    return bump(redis_connection(), events)
