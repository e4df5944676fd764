"""RQ entry point: run a queued import (delivered by the outbox after the upload committed)."""

import asyncio
import uuid
from typing import Any

from catalog.imports.service import run_import
from tradeloom.jobs import with_job_sessions


def run_import_job(event: dict[str, Any]) -> None:
    """Idempotent: an import that is no longer queued is left alone."""
    org_id, import_id = uuid.UUID(str(event["org_id"])), uuid.UUID(str(event["payload"]["import_id"]))
    asyncio.run(with_job_sessions(lambda sessionmaker: run_import(sessionmaker, org_id=org_id, import_id=import_id)))
