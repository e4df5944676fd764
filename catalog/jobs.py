"""RQ entry points of the catalogue: keep search in step with material changes, rebuild it in bulk.

Events arrive through the outbox (at least once): ``material.created|updated|status_changed`` with payload
``{material_id, code, version}``. Indexing re-reads the material by id, so a repeated or late event only
writes the current state again.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.search import service
from tradeloom.db import apply_tenant, make_engine, make_sessionmaker
from tradeloom.jobs import require_url
from tradeloom.outbox.subscriptions import subscribe
from tradeloom.settings import Settings, get_settings

MATERIAL_TOPICS = "material.*"


def subscribe_jobs() -> None:
    """Called by the composition root (app and CLI): material events re-index the material."""
    subscribe(MATERIAL_TOPICS, "catalog.jobs.index_materials", queue="low")


@asynccontextmanager
async def indexing_session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction as the app role in the platform context, which alone may write search entries."""
    async with sessionmaker() as session, session.begin():
        await apply_tenant(session, org_id=None, platform_admin=True)
        yield session


async def _index(settings: Settings, material_ids: Sequence[uuid.UUID]) -> int:
    engine = make_engine(require_url(settings.database_url, "DATABASE_URL"), pool_size=1, max_overflow=0)
    try:
        async with indexing_session(make_sessionmaker(engine)) as session:
            return await service.index_materials(service.backend_for(session, settings), material_ids)
    finally:
        await engine.dispose()


def index_materials(event: dict[str, Any]) -> int:
    """Re-index the material an outbox event names (idempotent)."""
    return asyncio.run(_index(get_settings(), [uuid.UUID(str(event["payload"]["material_id"]))]))


async def reindex_everything(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Rebuild every material's search entry, one transaction per batch; returns how many are searchable."""
    indexed = 0
    async with sessionmaker() as reader:
        async for batch in service.material_id_batches(reader):
            async with indexing_session(sessionmaker) as session:
                indexed += await service.index_materials(service.backend_for(session, settings), batch)
    async with sessionmaker() as owner:
        # A reindex rewrites every row: VACUUM takes the dead versions out (a search's bitmap heap scan
        # would visit them; autovacuum may be slow or off) and ANALYZE gives fresh statistics (with stale
        # ones the planner mistakes how many rows a tsquery matches). VACUUM needs autocommit.
        connection = await owner.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        await connection.execute(text("VACUUM (ANALYZE) materials, material_search_facts, search_words"))
    return indexed
