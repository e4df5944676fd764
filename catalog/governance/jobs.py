"""RQ entry points of the platform-wide governance jobs (they run as the table owner: they span tenants)."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.governance.dedupe import DEFAULT_THRESHOLD, scan_for_duplicates
from catalog.governance.quality import score_materials
from tradeloom.db import make_engine, make_sessionmaker, utcnow
from tradeloom.jobs import require_url
from tradeloom.settings import get_settings


async def _as_platform(work: Callable[[AsyncSession], Awaitable[object]]) -> None:
    engine = make_engine(require_url(get_settings().database_url, "DATABASE_URL"), pool_size=1, max_overflow=0)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await work(session)
    finally:
        await engine.dispose()


def run_dedupe_job(event: dict[str, Any]) -> None:
    """Scan the library for duplicates; idempotent (open pairs are upserted, decisions kept)."""
    threshold = float(event.get("payload", {}).get("threshold", DEFAULT_THRESHOLD))
    asyncio.run(_as_platform(lambda session: scan_for_duplicates(session, threshold=threshold)))


def run_quality_job(event: dict[str, Any]) -> None:
    """Recompute every live material's quality score; idempotent."""
    asyncio.run(_as_platform(lambda session: score_materials(session, now=utcnow())))
