"""How catalogue governance plugs into the platform: its routers, job subscriptions and the evidence hook.

Called by the composition root (``tradeloom/app.py`` for the web process, ``tradeloom/cli.py`` for the
worker, whose outbox dispatcher must know the subscriptions).
"""

from fastapi import APIRouter

from catalog.governance import api as governance_api
from catalog.governance import evidence
from catalog.governance.dedupe import DEDUPE_REQUESTED
from catalog.governance.quality import QUALITY_REQUESTED
from catalog.imports import api as imports_api
from catalog.imports.service import IMPORT_REQUESTED
from tradeloom.outbox.subscriptions import subscribe

ROUTERS: tuple[APIRouter, ...] = (imports_api.router, governance_api.router)


def install(*, record_evidence: evidence.EvidenceRecorder) -> None:
    """Subscribe the governance jobs to their outbox topics; merges record evidence with ``record_evidence``."""
    evidence.use_recorder(record_evidence)
    subscribe(IMPORT_REQUESTED, "catalog.imports.jobs.run_import_job", queue="low")
    subscribe(DEDUPE_REQUESTED, "catalog.governance.jobs.run_dedupe_job", queue="low")
    subscribe(QUALITY_REQUESTED, "catalog.governance.jobs.run_quality_job", queue="low")
