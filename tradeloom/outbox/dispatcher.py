"""Moves committed outbox events to RQ queues.

At-least-once: an event is marked dispatched only after its jobs are in Redis; a crash in between sends it
again, so consumers must be idempotent (each job gets the event id). A batch consumer gets one job per
batch, carrying all its matching events (job id from the first and last event id). If Redis is unreachable
the batch stays due with exponential backoff and the API keeps accepting writes; delivery catches up later.
Several dispatchers may run: ``FOR UPDATE SKIP LOCKED`` gives each its own batch.
"""

import datetime as dt
import logging
import time

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.queue import EnqueueData
from sqlalchemy import Engine, select, update

from tradeloom.db import utcnow
from tradeloom.outbox.feed import assign_feed_positions
from tradeloom.outbox.models import OutboxEvent
from tradeloom.outbox.subscriptions import Subscription, subscribers_of

log = logging.getLogger(__name__)

JOB_RETRY = Retry(max=8, interval=[5, 15, 60, 300, 900, 1800, 3600, 3600])
MAX_BACKOFF_SECONDS = 300


def backoff(attempts: int) -> dt.timedelta:
    """Wait before retrying a batch that Redis refused: 1 s, 2 s, 4 s … capped at five minutes."""
    return dt.timedelta(seconds=min(2 ** max(attempts, 0), MAX_BACKOFF_SECONDS))


def event_message(event: OutboxEvent) -> dict[str, object]:
    return {
        "id": event.id, "org_id": str(event.org_id), "topic": event.topic,
        "payload": event.payload, "created_at": event.created_at.isoformat(),
    }


def dispatch_due(engine: Engine, redis: Redis, *, batch_size: int = 200) -> int:
    """Send one batch of due events; returns how many were handled (0 when nothing was due)."""
    with engine.begin() as conn:
        events = [
            OutboxEvent(**row._mapping)
            for row in conn.execute(
                select(*OutboxEvent.__table__.c)
                .where(OutboxEvent.dispatched_at.is_(None), OutboxEvent.available_at <= utcnow())
                .order_by(OutboxEvent.id).limit(batch_size).with_for_update(skip_locked=True)
            )
        ]
        if not events:
            return 0
        ids = [event.id for event in events]
        try:
            _enqueue(redis, events)
        except RedisError as exc:
            log.warning("outbox: redis unavailable, will retry", extra={"events": len(ids), "error": str(exc)})
            attempts = max(event.attempts for event in events) + 1
            conn.execute(
                update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(
                    attempts=OutboxEvent.attempts + 1, available_at=utcnow() + backoff(attempts),
                    last_error=str(exc)[:500],
                )
            )
            return 0
        conn.execute(update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(dispatched_at=utcnow()))
        return len(events)


def _enqueue(redis: Redis, events: list[OutboxEvent]) -> None:
    """Per-event consumers get one job per event; batch consumers one job per batch with its matching events."""
    by_queue: dict[str, list[EnqueueData]] = {}
    batches: dict[Subscription, list[dict[str, object]]] = {}
    for event in events:
        message = event_message(event)
        for subscription in subscribers_of(event.topic):
            if subscription.batch:
                batches.setdefault(subscription, []).append(message)
                continue
            by_queue.setdefault(subscription.queue, []).append(
                _job_data(subscription, message, job_id=f"outbox-{event.id}-{_job_key(subscription)}"))
    for subscription, messages in batches.items():
        # the same events re-sent after a Redis failure get the same job id
        job_id = f"outbox-batch-{messages[0]['id']}-{messages[-1]['id']}-{_job_key(subscription)}"
        by_queue.setdefault(subscription.queue, []).append(_job_data(subscription, messages, job_id=job_id))
    with redis.pipeline() as pipe:
        for queue_name, job_datas in by_queue.items():
            Queue(queue_name, connection=redis).enqueue_many(job_datas, pipeline=pipe)
        pipe.execute()


def _job_key(subscription: Subscription) -> str:
    return subscription.job.replace(".", "_")


def _job_data(subscription: Subscription, argument: object, *, job_id: str) -> EnqueueData:
    return Queue.prepare_data(subscription.job, args=(argument,), job_id=job_id, retry=JOB_RETRY,
                              result_ttl=3600, failure_ttl=7 * 24 * 3600)


def run_dispatcher(engine: Engine, redis: Redis, *, batch_size: int, poll_seconds: float,
                   stop_after: float | None = None) -> None:
    """Number feed positions and dispatch forever (or for ``stop_after`` seconds), sleeping when idle."""
    deadline = None if stop_after is None else time.monotonic() + stop_after
    while deadline is None or time.monotonic() < deadline:
        try:
            assign_feed_positions(engine, batch_size=batch_size)
            sent = dispatch_due(engine, redis, batch_size=batch_size)
        except Exception:
            log.exception("outbox: dispatch failed")
            sent = 0
        if sent < batch_size:
            time.sleep(poll_seconds)
