"""Qualification pages: buyers record and review their suppliers' documents and see what runs out; suppliers
submit their own. Every form calls the same service as the API."""

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from commerce.qualifications import service
from commerce.qualifications.rules import DocType, standing
from commerce.qualifications.schemas import QualificationIn
from tradeloom.auth import Principal
from tradeloom.errors import Invalid
from tradeloom.identity.roles import Permission
from tradeloom.identity.service import list_organizations
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import TransactionalRoute, Tx
from tradeloom.web.forms import form_version, run_form_action
from tradeloom.web.labels import N_
from tradeloom.web.navigation import NavItem, add_nav_item
from tradeloom.web.pages import Member
from tradeloom.web.templating import add_template_dir, environment, render

router = PrefixedRouter(prefix="/qualifications", route_class=TransactionalRoute, include_in_schema=False)
LABELS = {
    DocType.ISO_9001: N_("ISO 9001"), DocType.ISO_14001: N_("ISO 14001"), DocType.IATF_16949: N_("IATF 16949"),
    DocType.BUSINESS_LICENCE: N_("Business licence"), DocType.PRODUCT_CERTIFICATE: N_("Product certificate"),
    DocType.CCC: N_("CCC certificate"), DocType.OTHER: N_("Other"),
    "pending": N_("awaiting review"), "approved": N_("approved"), "rejected": N_("rejected"),
    "valid": N_("valid"), "expiring": N_("expiring"), "expired": N_("expired"),
}


async def _page(request: Request, principal: Principal, session: AsyncSession, *, errors: list[str] | None = None,
                status_code: int = 200) -> Response:
    today = dt.date.today()
    documents = await service.list_qualifications(session, viewer_org_id=principal.org_id, supplier_org_id=None,
                                                  status=None)
    organizations = await list_organizations(session)
    kept = [document for document in documents if document.org_id == principal.org_id]
    suppliers = {document.supplier_org_id for document in kept}
    context = {
        "kept": kept, "own": [document for document in documents if document.supplier_org_id == principal.org_id],
        "lacking": await service.expired_required(session, buyer_org_id=principal.org_id, supplier_org_ids=suppliers,
                                                  today=today),
        "orgs": {org.id: org for org in organizations},
        "suppliers": [org for org in organizations if org.kind in service.SUPPLYING and org.id != principal.org_id],
        "buyers": [org for org in organizations if org.kind in service.BUYING and org.id != principal.org_id],
        "doc_types": list(DocType), "today": today, "errors": errors or [],
    }
    return render(request, "qualifications/list.html", context, principal=principal, status_code=status_code)


@router.get("")
async def qualifications(request: Request, principal: Member, tx: Tx) -> Response:
    """Buyers: their suppliers' documents; suppliers: their own."""
    return await _page(request, principal, await tx.session())


def _fields(form: Any) -> QualificationIn:
    return QualificationIn.model_validate({
        "doc_type": form.get("doc_type"), "number": form.get("number"), "issuer": form.get("issuer"),
        "valid_from": form.get("valid_from") or None, "valid_until": form.get("valid_until") or None,
        "is_required": form.get("is_required") == "on"})


def _org(form: Any, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(form.get(name) or ""))
    except ValueError:
        raise Invalid("Choose the organization.", code=f"qualification_{name}_missing") from None


async def _attach(request: Request, session: AsyncSession, principal: Principal, qualification_id: uuid.UUID,
                  form: Any) -> None:
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        await service.attach_file(session, request.app.state.attachment_storage, actor=principal.actor,
                                  qualification_id=qualification_id, upload=service.UploadedFile(
                                      upload.filename, upload.content_type or "", upload.file))


async def _act(request: Request, principal: Principal, tx: Tx, action: Any) -> Response:
    async def show_again(session: AsyncSession, errors: list[str], status: int) -> Response:
        return await _page(request, principal, session, errors=errors, status_code=status)
    return await run_form_action(request, tx, action, done_url="/qualifications", show_again=show_again)


@router.post("/record")
async def record(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.RFQ_MANAGE)

    async def action(session: AsyncSession, form: Any) -> None:
        qualification = await service.record_qualification(
            session, actor=principal.actor, supplier_org_id=_org(form, "supplier_org_id"),
            fields=_fields(form).fields())
        await _attach(request, session, principal, qualification.id, form)
    return await _act(request, principal, tx, action)


@router.post("/submit")
async def submit(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.QUOTATION_SUBMIT)

    async def action(session: AsyncSession, form: Any) -> None:
        qualification = await service.submit_qualification(
            session, actor=principal.actor, buyer_org_id=_org(form, "buyer_org_id"), fields=_fields(form).fields())
        await _attach(request, session, principal, qualification.id, form)
    return await _act(request, principal, tx, action)


@router.post("/{qualification_id}/review")
async def review(qualification_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.RFQ_MANAGE)

    async def action(session: AsyncSession, form: Any) -> None:
        await service.review_qualification(
            session, actor=principal.actor, qualification_id=qualification_id,
            expected_version=form_version(form.get("version")), approve=form.get("decision") == "approve",
            note=str(form.get("note") or ""), is_required=form.get("is_required") == "on")
    return await _act(request, principal, tx, action)


def install(app: FastAPI) -> None:
    """Qualification pages, templates and the menu entry."""
    add_template_dir(Path(__file__).resolve().parent / "templates")
    environment.globals.update(qualification_label=lambda value: LABELS.get(value, value),
                               qualification_standing=standing)
    app.include_router(router)
    add_nav_item(NavItem("/qualifications", N_("Qualifications"), order=22,
                         permission=frozenset({Permission.RFQ_MANAGE, Permission.QUOTATION_SUBMIT})))
