"""Indexing through the outbox job and the bulk ``tradeloom catalog reindex`` command, on committed data."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from catalog import jobs
from catalog.search.models import MaterialSearchFacts
from tests.catalog.search_world import World, build_world
from tests.conftest import truncate_all
from tradeloom.cli import main
from tradeloom.outbox.subscriptions import Subscription, subscribers_of
from tradeloom.settings import get_settings


@pytest.fixture
async def committed_world(engine: AsyncEngine, database_url: str, redis_url: str,
                          monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    monkeypatch.setenv("TRADELOOM_DATABASE_URL", database_url)
    monkeypatch.setenv("TRADELOOM_REDIS_URL", redis_url)
    monkeypatch.delenv("TRADELOOM_SEARCH_URL", raising=False)
    get_settings.cache_clear()
    async with async_sessionmaker(engine, expire_on_commit=False)() as session, session.begin():
        world = await build_world(session)
    yield world
    await truncate_all(engine)
    get_settings.cache_clear()


async def searchable_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(MaterialSearchFacts)) or 0)


def test_material_events_go_to_the_index_job() -> None:
    jobs.subscribe_jobs()
    for topic in ("material.created", "material.updated", "material.status_changed"):
        assert Subscription("material.*", "catalog.jobs.index_materials", "low") in subscribers_of(topic)


async def test_job_indexes_the_event_material_idempotently(engine: AsyncEngine, committed_world: World) -> None:
    # given the event the material service emits
    material = committed_world.materials["ss_bolt"]
    event = {"id": 7, "topic": "material.updated", "org_id": str(material.owner_org_id),
             "payload": {"material_id": str(material.id), "code": material.code, "version": 1}}
    # when it is delivered twice (at least once delivery)
    first = await asyncio.to_thread(jobs.index_materials, event)
    second = await asyncio.to_thread(jobs.index_materials, event)
    # then the material has one search entry
    assert (first, second, await searchable_count(engine)) == (1, 1, 1)


async def test_reindex_command_rebuilds_everything(engine: AsyncEngine, committed_world: World) -> None:
    result = await asyncio.to_thread(CliRunner().invoke, main, ["catalog", "reindex"])
    assert result.exit_code == 0, result.output
    assert "\n4 searchable materials indexed in " in result.output
    assert await searchable_count(engine) == 4
