"""RQ entry point: run a queued import (delivered by the outbox after the upload committed)."""

import asyncio
import uuid
from typing import Any

from catalog.imports.service import run_import
from tradeloom.db import make_engine, make_sessionmaker
from tradeloom.jobs import require_url
from tradeloom.settings import get_settings


def run_import_job(event: dict[str, Any]) -> None:
    """Idempotent: an import that is no longer queued is left alone."""
    asyncio.run(_run(uuid.UUID(str(event["org_id"])), uuid.UUID(str(event["payload"]["import_id"]))))


async def _run(org_id: uuid.UUID, import_id: uuid.UUID) -> None:
    engine = make_engine(require_url(get_settings().database_url, "DATABASE_URL"), pool_size=2, max_overflow=0)
    try:
        await run_import(make_sessionmaker(engine), org_id=org_id, import_id=import_id)
    finally:
        await engine.dispose()
