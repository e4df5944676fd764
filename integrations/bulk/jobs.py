"""RQ entry point: run a queued bulk job (delivered by the outbox after the request committed)."""

import asyncio
import uuid
from typing import Any

from integrations.bulk.service import run_bulk
from tradeloom.db import make_engine, make_sessionmaker
from tradeloom.jobs import require_url
from tradeloom.settings import get_settings


def run_bulk_job(event: dict[str, Any]) -> None:
    """Idempotent: a job that is no longer queued is left alone."""
    asyncio.run(_run(uuid.UUID(str(event["org_id"])), uuid.UUID(str(event["payload"]["job_id"]))))


async def _run(org_id: uuid.UUID, job_id: uuid.UUID) -> None:
    engine = make_engine(require_url(get_settings().database_url, "DATABASE_URL"), pool_size=2, max_overflow=0)
    try:
        await run_bulk(make_sessionmaker(engine), org_id=org_id, job_id=job_id)
    finally:
        await engine.dispose()
