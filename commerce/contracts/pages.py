"""Contract pages: list and new framework, the contract page (sign, amend, call off), and the printable
document in Chinese or English as HTML and PDF (WeasyPrint, with Noto CJK fonts from Debian)."""

import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool
from weasyprint import HTML

from catalog.service.materials import find_material_by_code, get_material
from commerce.contracts import schemas
from commerce.contracts.service import call_offs, keys, lifecycle, signing
from commerce.order_port import order_placer
from tradeloom.auth import Principal
from tradeloom.errors import TradeloomError
from tradeloom.identity.roles import Permission
from tradeloom.identity.service import get_organization, list_organizations
from tradeloom.routing import PrefixedRouter
from tradeloom.sites.service import list_sites
from tradeloom.transaction import TransactionalRoute, Tx
from tradeloom.web.forms import form_errors, form_version, run_form_action
from tradeloom.web.i18n import LOCALES, request_locale
from tradeloom.web.labels import N_
from tradeloom.web.navigation import NavItem, add_nav_item
from tradeloom.web.pages import Member
from tradeloom.web.templating import add_template_dir, environment, render

router = PrefixedRouter(prefix="/contracts", route_class=TransactionalRoute, include_in_schema=False)
STATUS_LABELS = {"awaiting_signatures": N_("Awaiting signatures"), "effective": N_("Effective"),
                 "amendment_awaiting_signatures": N_("Amendment awaiting signatures"),
                 "spot": N_("Spot contract"), "framework": N_("Framework agreement")}


@router.get("")
async def contract_list(request: Request, principal: Member, tx: Tx) -> Response:
    session = await tx.session()
    contracts = await lifecycle.list_contracts(session)
    suppliers = [org for org in await list_organizations(session) if org.kind in ("supplier", "both")]
    return render(request, "contracts/list.html", {"contracts": contracts, "suppliers": suppliers, "errors": [],
                                                   "form": {}}, principal=principal)


@router.post("")
async def create_framework(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.RFQ_MANAGE)
    session, form = await tx.session(), await request.form()
    try:
        material = (await find_material_by_code(session, code=str(form.get("material_code") or ""))).material
        fields = schemas.ContractCreate.model_validate({
            "supplier_org_id": form.get("supplier"), "kind": "framework", "currency": form.get("currency"),
            "title": form.get("title"), "valid_from": form.get("valid_from"), "valid_to": form.get("valid_to") or None,
            "value_cap": form.get("value_cap") or None, "terms_text": form.get("terms_text") or "",
            "items": [{"material_id": str(material.id), "unit_price": form.get("unit_price"),
                       "quantity_cap": form.get("quantity_cap") or None}]})
        view = await lifecycle.create_contract(session, actor=principal.actor, fields=fields)
    except (ValidationError, TradeloomError) as exc:
        await tx.abandon()
        session = await tx.session()
        suppliers = [org for org in await list_organizations(session) if org.kind in ("supplier", "both")]
        return render(request, "contracts/list.html", {
            "contracts": await lifecycle.list_contracts(session), "suppliers": suppliers,
            "errors": form_errors(exc), "form": dict(form)}, principal=principal, status_code=422)
    return RedirectResponse(f"/contracts/{view.contract.id}", status_code=303)


async def _document_context(session: AsyncSession, contract_id: uuid.UUID) -> dict[str, Any]:
    view = await lifecycle.contract_view(session, contract_id=contract_id)
    history = await lifecycle.terms_versions(session, contract_id=contract_id)
    checked = await signing.verification(session, contract_id=contract_id)
    materials = {item.material_id: await get_material(session, material_id=item.material_id) for item in view.items}
    return {"view": view, "history": history, "latest": history[-1], "checked": checked, "materials": materials,
            "buyer": await get_organization(session, view.contract.org_id),
            "supplier": await get_organization(session, view.contract.supplier_org_id)}


async def _detail(request: Request, principal: Principal, session: AsyncSession, contract_id: uuid.UUID,
                  errors: list[str] | None = None, status_code: int = 200) -> Response:
    context = await _document_context(session, contract_id)
    sites, _ = await list_sites(session, limit=500, cursor=None)
    key = await keys.active_key(session, org_id=principal.org_id)
    context |= {"errors": errors or [], "sites": sites, "uploaded_key": key is not None and key.custody == "uploaded",
                "call_offs": await call_offs.call_offs_of(session, contract_id=contract_id),
                "signed_by_us": any(s.org_id == principal.org_id for s, _ in context["checked"].signatures),
                "is_buyer": context["view"].contract.org_id == principal.org_id}
    return render(request, "contracts/detail.html", context, principal=principal, status_code=status_code)


@router.get("/{contract_id}")
async def contract_page(contract_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    return await _detail(request, principal, await tx.session(), contract_id)


async def _act(request: Request, principal: Principal, tx: Tx, contract_id: uuid.UUID, action: Any) -> Response:
    """Run one form action; a refusal shows the contract again with the reason (and nothing changed)."""

    async def show_again(session: AsyncSession, errors: list[str], status: int) -> Response:
        return await _detail(request, principal, session, contract_id, errors, status)

    return await run_form_action(request, tx, action, done_url=f"/contracts/{contract_id}", show_again=show_again)


@router.post("/{contract_id}/sign")
async def sign(contract_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.CONTRACT_SIGN)

    async def action(session: AsyncSession, form: Any) -> None:
        await signing.sign_contract(session, actor=principal.actor, contract_id=contract_id,
                                    expected_version=form_version(form.get("version")),
                                    signature=str(form.get("signature") or "").strip() or None,
                                    secret=request.app.state.signing_secret)
    return await _act(request, principal, tx, contract_id, action)


@router.post("/{contract_id}/amend")
async def amend(contract_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.CONTRACT_SIGN)

    async def action(session: AsyncSession, form: Any) -> None:
        view = await lifecycle.contract_view(session, contract_id=contract_id)
        contract = view.contract
        fields = schemas.AmendmentIn.model_validate({
            "reason": form.get("reason"), "title": contract.title, "valid_from": contract.valid_from,
            "valid_to": contract.valid_to, "value_cap": contract.value_cap,
            "terms_text": (await lifecycle.latest_terms(session, contract)).document["terms_text"],
            "items": [{"material_id": str(item.material_id),
                       "unit_price": form.get(f"price-{item.id}") or str(item.unit_price),
                       "quantity_cap": form.get(f"cap-{item.id}") or (str(item.quantity_cap) if item.quantity_cap
                                                                      else None),
                       "value_cap": str(item.value_cap) if item.value_cap else None} for item in view.items]})
        await lifecycle.amend_contract(session, actor=principal.actor, contract_id=contract_id,
                                       expected_version=form_version(form.get("version")), fields=fields)
    return await _act(request, principal, tx, contract_id, action)


@router.post("/{contract_id}/call-off")
async def call_off(contract_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.ORDER_CREATE)

    async def action(session: AsyncSession, form: Any) -> None:
        items = await lifecycle.contract_items(session, contract_id=contract_id)
        fields = schemas.CallOffIn.model_validate({
            "delivery_site_id": form.get("site"),
            "lines": [{"material_id": str(item.material_id), "quantity": form.get(f"quantity-{item.id}")}
                      for item in items if form.get(f"quantity-{item.id}")]})
        await call_offs.place_call_off(session, actor=principal.actor, contract_id=contract_id, fields=fields,
                                       placer=order_placer(request))
    return await _act(request, principal, tx, contract_id, action)


async def _document_html(request: Request, tx: Tx, contract_id: uuid.UUID, lang: str) -> str:
    """The document in ``lang`` (zh_CN or en), else in the page's language."""
    context = await _document_context(await tx.session(), contract_id)
    locale = lang if lang in LOCALES else request_locale(request, request.app.state.settings.default_locale)
    translations = request.app.state.translations[locale]
    return environment.get_template("contracts/document.html").render(
        {"locale": locale, "_": translations.gettext, "lang_html": "zh-CN" if locale == "zh_CN" else "en"} | context)


@router.get("/{contract_id}/document")
async def document(contract_id: uuid.UUID, request: Request, principal: Member, tx: Tx,
                   lang: str = "") -> Response:
    """The printable contract (terms in force, signatures, hash)."""
    return HTMLResponse(await _document_html(request, tx, contract_id, lang))


@router.get("/{contract_id}/document.pdf")
async def document_pdf(contract_id: uuid.UUID, request: Request, principal: Member, tx: Tx,
                       lang: str = "zh_CN") -> Response:
    """The same document as PDF."""
    html = await _document_html(request, tx, contract_id, lang)
    pdf = await run_in_threadpool(lambda: HTML(string=html).write_pdf())
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="contract-{contract_id}.pdf"'})


def install(app: FastAPI) -> None:
    """Contract pages, templates and the menu entry."""
    add_template_dir(Path(__file__).resolve().parent / "templates")
    environment.globals.update(contract_label=lambda value: STATUS_LABELS.get(value, value))
    app.include_router(router)
    add_nav_item(NavItem("/contracts", N_("Contracts"), order=25))
