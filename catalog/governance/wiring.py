"""How catalogue governance plugs into the platform: its routers, job subscriptions and the evidence hook.

Called by the composition root (``tradeloom/app.py`` for the web process, ``tradeloom/cli.py`` for the
worker, whose outbox dispatcher must know the subscriptions).
"""

from fastapi import APIRouter

from catalog.imports import api as imports_api
from catalog.imports.service import IMPORT_REQUESTED
from tradeloom.outbox.subscriptions import subscribe

ROUTERS: tuple[APIRouter, ...] = (imports_api.router,)


def install() -> None:
    """Subscribe the governance jobs to their outbox topics."""
    subscribe(IMPORT_REQUESTED, "catalog.imports.jobs.run_import_job", queue="low")
