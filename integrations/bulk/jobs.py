"""RQ entry point: run a queued bulk job (delivered by the outbox after the request committed)."""

import asyncio
import uuid
from typing import Any

from integrations.bulk.service import run_bulk
from tradeloom.jobs import with_job_sessions


def run_bulk_job(event: dict[str, Any]) -> None:
    """Idempotent: a job that is no longer queued is left alone."""
    org_id, job_id = uuid.UUID(str(event["org_id"])), uuid.UUID(str(event["payload"]["job_id"]))
    asyncio.run(with_job_sessions(lambda sessionmaker: run_bulk(sessionmaker, org_id=org_id, job_id=job_id)))
