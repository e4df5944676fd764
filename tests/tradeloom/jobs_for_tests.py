"""An RQ job used by the outbox tests: records each delivered event once, keyed by event id."""

from redis import Redis
from rq import get_current_job


def record_delivery(event: dict[str, object]) -> None:
    """Idempotent consumer: a second delivery of the same event id changes nothing."""
    job = get_current_job()
    assert job is not None
    connection: Redis = job.connection
    connection.hsetnx("test:deliveries", str(event["id"]), str(event["topic"]))
    connection.incr(f"test:delivery-attempts:{event['id']}")


def record_batch(events: list[dict[str, object]]) -> None:
    """A batch consumer: appends the ids of the events of each batch it is given, one list entry per batch."""
    job = get_current_job()
    assert job is not None
    connection: Redis = job.connection
    connection.rpush("test:batches", ",".join(str(event["id"]) for event in events))
