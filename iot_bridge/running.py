"""Running an IoT process (edge agent, simulator, embedded broker) until it is told to stop."""

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
RETRY_SECONDS = 1.0


def reraise_if_cancelling() -> None:
    """Give back a cancellation that a library swallowed or turned into an ordinary error.

    Call it at the top of a loop that runs until cancelled and in its ``except Exception`` retries. A
    cancel landing mid-query or mid-command can be lost inside the database or Redis client (the task
    stays marked as cancelling); the loop would then run on and its owner wait forever (seen as a hung
    bridge shutdown in about half the runs of the IoT test suite)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def until_done(attempt: Callable[[], Awaitable[T]], *, log: logging.Logger, failure: str) -> T:
    """``attempt()`` again, a second after each error, until it succeeds: a database that went away comes back.

    Each failure is logged as ``failure`` with its traceback. Meanwhile the caller waits, so what it does
    stays in order; a cancellation ends the waiting."""
    while True:
        try:
            return await attempt()
        except Exception:
            reraise_if_cancelling()
            log.exception(failure)
            await asyncio.sleep(RETRY_SECONDS)


async def until_stopped(work: Awaitable[T], duration: float | None = None) -> T | None:
    """Await ``work`` until it ends, ``duration`` passes, or the process gets SIGINT/SIGTERM.

    Cancelling lets edge nodes publish their NDEATH and close their spools on the way out.
    """
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    try:
        async with asyncio.timeout(duration):
            return await task
    except (TimeoutError, asyncio.CancelledError):
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return None
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
