"""The telemetry table's day partitions: made ahead, dropped after the retention period, kept up hourly even
when the database was away; and the times a reading may carry move with the date."""

import asyncio
import datetime as dt
import logging

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from iot_bridge.service_main import keep_partitions
from iot_bridge.telemetry import StorableTimes, drop_expired_partitions, ensure_partitions, partition_name
from tests.iot_bridge.bridge_world import database_away
from tests.iot_bridge.edge.peers import eventually
from tradeloom.db import utcnow
from tradeloom.settings import Settings

RETENTION_DAYS = 3


async def day_partitions(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.execute(text(
            "SELECT 'iot_telemetry_parts.' || c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'iot_telemetry' ORDER BY c.relname"
        ))).scalars())


def test_the_storable_times_move_with_the_date():
    storable, today = StorableTimes(RETENTION_DAYS), dt.date(2031, 3, 10)
    storable.move_to(today)
    first_kept, made_ahead = dt.datetime(2031, 3, 8, tzinfo=dt.UTC), dt.datetime(2031, 3, 12, 23, 59, tzinfo=dt.UTC)
    assert (first_kept in storable, made_ahead in storable) == (True, True)
    assert (first_kept - dt.timedelta(seconds=1) in storable, made_ahead + dt.timedelta(minutes=1) in storable) \
        == (False, False)
    # three days on, what was ahead is today, and the first day kept is gone
    storable.move_to(today + dt.timedelta(days=3))
    assert (made_ahead + dt.timedelta(minutes=1) in storable, first_kept in storable) == (True, False)


async def test_partitions_are_made_ahead_and_dropped_after_the_retention_period(engine: AsyncEngine):
    sessionmaker = async_sessionmaker(engine)
    today = dt.date(2031, 3, 10)
    try:
        async with sessionmaker() as session, session.begin():
            await ensure_partitions(session, today=today, retention_days=RETENTION_DAYS)
        made = [partition_name(today + dt.timedelta(days=n)) for n in range(-2, 3)]
        assert set(made) <= set(await day_partitions(engine))
        # a day later the oldest day is past the retention period
        async with sessionmaker() as session, session.begin():
            dropped = await drop_expired_partitions(session, today=today + dt.timedelta(days=1),
                                                    retention_days=RETENTION_DAYS)
        assert partition_name(today - dt.timedelta(days=2)).endswith(dropped[-1])
        assert set(made[1:]) <= set(await day_partitions(engine))
    finally:  # the days the other tests of this database write to
        async with sessionmaker() as session, session.begin():
            await ensure_partitions(session, today=utcnow().date(), retention_days=30)


async def test_the_hourly_upkeep_waits_for_a_database_that_was_away(
        engine: AsyncEngine, database_url: str, test_settings: Settings, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.ERROR, logger="iot_bridge")
    day_after_tomorrow = partition_name(utcnow().date() + dt.timedelta(days=2))
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP TABLE IF EXISTS {day_after_tomorrow}"))
    stop = asyncio.Event()
    async with database_away(database_url):
        upkeep = asyncio.create_task(keep_partitions(async_sessionmaker(engine), test_settings, stop))
        await eventually(lambda: "partitions could not be kept" in caplog.text)
    await engine.dispose()

    try:
        async with asyncio.timeout(30):
            while day_after_tomorrow not in await day_partitions(engine):  # noqa: ASYNC110 - polls the catalog
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await upkeep
