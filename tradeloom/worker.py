"""``tradeloom worker``: the outbox dispatcher, housekeeping and other platform loops (threads) beside an RQ worker.

The RQ worker runs each job in this process (``SimpleWorker``), not in a process forked per job:
this process runs threads, and a fork copies whatever lock another thread holds at that moment (a job was
seen hanging on SQLAlchemy's mapper lock until its timeout) and the pooled database connections of the
loops' engine. A fork per job also cost more CPU than most jobs themselves (decision 0020).
"""

import logging
import threading
from collections.abc import Callable, Sequence

from rq import SimpleWorker

from tradeloom.housekeeping import run_housekeeping
from tradeloom.jobs import QUEUES, redis_connection, sync_engine
from tradeloom.outbox.dispatcher import run_dispatcher
from tradeloom.settings import get_settings

log = logging.getLogger(__name__)


def run_worker(
    *, queues: tuple[str, ...] = QUEUES, burst: bool = False, dispatch: bool = True,
    loops: Sequence[tuple[str, Callable[[], None]]] = (),
) -> None:
    """Dispatch outbox events and run jobs until stopped (or, with ``burst``, until the queues are empty).

    ``loops`` are further ``(thread name, function)`` platform loops, each run in a daemon thread; the
    composition root passes the domain ones (the ledger sequencer), since the kit imports no domain.
    """
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
    for name, loop in loops:
        threading.Thread(target=loop, name=name, daemon=True).start()
    log.info("worker started", extra={"queues": list(queues)})
    SimpleWorker(list(queues), connection=redis).work(burst=burst, with_scheduler=True,
                                                      logging_level=settings.log_level)
