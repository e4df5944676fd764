"""Catalogue data pages: file imports with a live progress bar, the duplicate review queue and the quality report."""

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException

from catalog.governance import dedupe, merge, quality
from catalog.imports import service as imports
from catalog.imports.api import PERMISSION_BY_KIND, file_format_of
from catalog.imports.rows import ImportKind
from catalog.page_kit import chinese
from tradeloom.auth import Principal
from tradeloom.db import utcnow
from tradeloom.errors import Invalid, TradeloomError
from tradeloom.identity.roles import Permission
from tradeloom.transaction import TransactionalRoute, Tx
from tradeloom.web.forms import ShowAgain, form_errors, run_form_action, upload_form
from tradeloom.web.labels import N_
from tradeloom.web.pages import Member
from tradeloom.web.templating import render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
RECENT_IMPORTS = 20
RUNNING = frozenset({"queued", "running"})
KIND_LABELS = {ImportKind.MATERIALS: N_("Materials"), ImportKind.OFFERS: N_("Offers"),
               ImportKind.PRICE_LISTS: N_("Price lists")}
STATUS_LABELS = {"queued": N_("Queued"), "running": N_("Running"), "validated": N_("Checked (dry run)"),
                 "succeeded": N_("Imported"), "rejected": N_("Rejected"), "failed": N_("Failed")}


async def _imports_page(request: Request, principal: Principal, session: AsyncSession, errors: list[str],
                        status_code: int = 200) -> Response:
    return render(request, "catalog/imports.html", {
        "imports": await imports.recent_imports(session, limit=RECENT_IMPORTS), "errors": errors,
        "kinds": [kind for kind in ImportKind if principal.can(PERMISSION_BY_KIND[kind])],
        "kind_labels": KIND_LABELS, "status_labels": STATUS_LABELS,
    }, principal=principal, status_code=status_code)


@router.get("/catalog/imports")
async def imports_page(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.CATALOG_READ)
    return await _imports_page(request, principal, await tx.session(), [])


async def _upload(request: Request) -> tuple[ImportKind, bool, str, bytes]:
    try:
        form = await upload_form(request, max_fields=8)
    except (MultiPartException, AssertionError) as exc:
        raise Invalid("Send the file as multipart/form-data.", code="catalog.import_form") from exc
    upload, kind = form.get("file"), str(form.get("kind") or "")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise Invalid("Choose a file to import.", code="catalog.import_form")
    if kind not in ImportKind._value2member_map_:
        raise Invalid("Choose what the file contains.", code="catalog.import_form")
    return ImportKind(kind), form.get("dry_run") == "on", upload.filename, await upload.read()


@router.post("/catalog/imports")
async def upload_import(request: Request, principal: Member, tx: Tx) -> Response:
    session = await tx.session()
    try:
        kind, dry_run, filename, content = await _upload(request)
        principal.require(PERMISSION_BY_KIND[kind])
        record = await imports.request_import(
            session, actor=principal.actor, kind=kind, file_format=file_format_of(filename), filename=filename,
            content=content, dry_run=dry_run)
    except TradeloomError as exc:
        await tx.abandon()
        return await _imports_page(request, principal, await tx.session(), form_errors(exc), exc.status)
    return RedirectResponse(f"/catalog/imports/{record.id}", status_code=303)


@router.get("/catalog/imports/{import_id}")
async def import_page(request: Request, principal: Member, tx: Tx, import_id: uuid.UUID) -> Response:
    """The whole page, or (for htmx's polling) only the progress panel."""
    principal.require(Permission.CATALOG_READ)
    record = await imports.get_import(await tx.session(), import_id=import_id)
    template = "catalog/import_progress.html" if request.headers.get("hx-request") else "catalog/import.html"
    percent = 100 if record.status not in RUNNING else (
        record.processed_rows * 100 // record.total_rows if record.total_rows else 0)
    return render(request, template, {
        "record": record, "running": record.status in RUNNING, "percent": percent,
        "kind_labels": KIND_LABELS, "status_labels": STATUS_LABELS,
    }, principal=principal)


async def _governance_page(request: Request, principal: Principal, session: AsyncSession, errors: list[str],
                           status_code: int = 200) -> Response:
    candidates, _ = await dedupe.list_candidates(session, status="open", mine_only_for=None, limit=50, cursor=None)
    report = await quality.quality_report(session, owner_org_id=principal.org_id, now=utcnow())
    return render(request, "catalog/governance.html", {
        "candidates": candidates, "report": report, "errors": errors, "zh": chinese(request),
        "chart": {"labels": [f"{b['from']}–{b['to']}" for b in report.buckets],
                  "counts": [b["count"] for b in report.buckets]},
    }, principal=principal, status_code=status_code)


@router.get("/catalog/governance")
async def governance_page(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.CATALOG_WRITE)
    return await _governance_page(request, principal, await tx.session(), [])


def _show_governance_again(request: Request, principal: Principal) -> ShowAgain:
    async def show_again(session: AsyncSession, errors: list[str], status: int) -> Response:
        return await _governance_page(request, principal, session, errors, status)

    return show_again


@router.post("/catalog/governance/duplicates/{candidate_id}/dismiss")
async def dismiss(request: Request, principal: Member, tx: Tx, candidate_id: uuid.UUID) -> Response:
    principal.require(Permission.CATALOG_WRITE)

    async def dismiss_pair(session: AsyncSession, _: FormData) -> None:
        await dedupe.dismiss_candidate(session, actor=principal.actor, candidate_id=candidate_id)

    return await run_form_action(request, tx, dismiss_pair, done_url="/catalog/governance",
                                 show_again=_show_governance_again(request, principal))


@router.post("/catalog/governance/merge")
async def merge_pair(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.CATALOG_WRITE)

    async def merge_codes(session: AsyncSession, form: FormData) -> None:
        await merge.merge_materials(
            session, actor=principal.actor, platform_admin=principal.is_platform_admin,
            survivor_code=str(form.get("survivor_code") or "")[:24],
            retired_code=str(form.get("retired_code") or "")[:24])

    return await run_form_action(request, tx, merge_codes, done_url="/catalog/governance",
                                 show_again=_show_governance_again(request, principal))
