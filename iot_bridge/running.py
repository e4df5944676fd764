"""Running an IoT process (edge agent, simulator, embedded broker) until it is told to stop."""

import asyncio
import signal
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


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
