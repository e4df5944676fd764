"""``tradeloom worker``: the outbox dispatcher and housekeeping (threads) beside an RQ worker on the queues."""

import logging
import threading

from rq import Worker

from tradeloom.housekeeping import run_housekeeping
from tradeloom.jobs import QUEUES, redis_connection, sync_engine
from tradeloom.outbox.dispatcher import run_dispatcher
from tradeloom.settings import get_settings

log = logging.getLogger(__name__)


def run_worker(*, queues: tuple[str, ...] = QUEUES, burst: bool = False, dispatch: bool = True) -> None:
    """Dispatch outbox events and run jobs until stopped (or, with ``burst``, until the queues are empty)."""
    settings = get_settings()
    redis = redis_connection()
    if dispatch:
        threading.Thread(
            target=run_dispatcher, name="outbox-dispatcher", daemon=True,
            kwargs={"engine": sync_engine(), "redis": redis_connection(), "batch_size": settings.outbox_batch_size,
                    "poll_seconds": settings.outbox_poll_seconds},
        ).start()
        threading.Thread(target=run_housekeeping, name="housekeeping", daemon=True,
                         kwargs={"engine": sync_engine(), "stop": threading.Event()}).start()
    log.info("worker started", extra={"queues": list(queues)})
    Worker(list(queues), connection=redis).work(burst=burst, with_scheduler=True, logging_level=settings.log_level)
