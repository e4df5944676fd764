"""A retry loop stops when cancelled, even when a library turned the cancellation into an ordinary error."""

import asyncio

from iot_bridge.running import reraise_if_cancelling


async def retry_forever(attempts: list[int]) -> None:
    """Like the bridge's store loop: every error is retried (a database that went away comes back)."""
    while True:
        try:
            try:
                await asyncio.sleep(3600)  # a query in flight
            except asyncio.CancelledError:
                raise ConnectionError("connection closed mid-query") from None  # what a driver may raise instead
        except Exception:
            reraise_if_cancelling()
            attempts.append(1)


async def test_a_cancelled_retry_loop_stops_instead_of_retrying() -> None:
    attempts: list[int] = []
    task = asyncio.create_task(retry_forever(attempts))
    await asyncio.sleep(0)
    task.cancel()
    async with asyncio.timeout(5):  # without the helper the loop would retry forever
        await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()
    assert attempts == []


async def test_an_error_without_a_cancellation_is_left_to_the_retry() -> None:
    try:
        raise ConnectionError("the database is away")
    except ConnectionError:
        reraise_if_cancelling()  # nothing to give back: returns, and the caller retries
