"""RFQ pages: the buyer's wizard, RFQ page with matches, Q&A, comparison matrix and award; the supplier's
inbox and quotation form. Each form posts here, calls one service and redirects (or shows the refusal)."""

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.service.materials import find_material_by_code
from commerce.order_port import order_placer
from commerce.qualifications.service import expired_required
from commerce.rfq import schemas
from commerce.rfq.service import award, comparison, invitations, matching, questions, quotations, requests
from commerce.rfq.service.requests import database_now
from tradeloom.auth import Principal
from tradeloom.errors import TradeloomError
from tradeloom.identity.roles import Permission
from tradeloom.identity.service import get_organization, list_organizations
from tradeloom.routing import PrefixedRouter
from tradeloom.sites.service import list_sites
from tradeloom.transaction import TransactionalRoute, Tx
from tradeloom.web.forms import form_errors, form_version, run_form_action
from tradeloom.web.labels import N_
from tradeloom.web.navigation import NavItem, add_nav_item
from tradeloom.web.pages import Member
from tradeloom.web.templating import add_template_dir, environment, render

router = PrefixedRouter(prefix="/rfqs", route_class=TransactionalRoute, include_in_schema=False)
WIZARD_LINES = 3
STATUS_LABELS = {"open": N_("Open"), "awarded": N_("Awarded"), "submitted": N_("Submitted"),
                 "superseded": N_("Superseded")}


def plain(value: Decimal | None) -> str:
    """A decimal as people write it: 9.5000 → 9.5."""
    return "" if value is None else format(value.normalize(), "f")


async def org_names(session: AsyncSession, org_ids: set[uuid.UUID]) -> dict[uuid.UUID, Any]:
    return {org_id: await get_organization(session, org_id) for org_id in org_ids}


@router.get("")
async def rfq_list(request: Request, principal: Member, tx: Tx) -> Response:
    """Buyers see their RFQs, suppliers their inbox."""
    session = await tx.session()
    issued = await requests.list_rfqs(session, actor=principal.actor) if principal.can(Permission.RFQ_MANAGE) else []
    inbox = await requests.inbox(session, actor=principal.actor) if principal.can(Permission.QUOTATION_SUBMIT) else []
    return render(request, "rfq/list.html", {"issued": issued, "inbox": inbox}, principal=principal)


async def _wizard(request: Request, principal: Principal, session: AsyncSession, form: dict[str, Any],
                  errors: list[str], status_code: int = 200) -> Response:
    suppliers = [org for org in await list_organizations(session) if org.kind in ("supplier", "both")]
    sites, _ = await list_sites(session, limit=500, cursor=None)
    return render(request, "rfq/new.html", {"suppliers": suppliers, "sites": sites, "form": form, "errors": errors,
                                            "line_numbers": range(WIZARD_LINES)},
                  principal=principal, status_code=status_code)


@router.get("/new")
async def new_rfq(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.RFQ_MANAGE)
    return await _wizard(request, principal, await tx.session(), {}, [])


async def _wizard_line(session: AsyncSession, form: Any, index: int) -> dict[str, Any] | None:
    code = str(form.get(f"line-{index}-material_code") or "").strip()
    description = str(form.get(f"line-{index}-description") or "").strip()
    if not code and not description:
        return None
    line = {"quantity": form.get(f"line-{index}-quantity"), "unit": form.get(f"line-{index}-unit"),
            "required_date": form.get(f"line-{index}-required_date")}
    if code:
        return line | {"material_id": str((await find_material_by_code(session, code=code)).material.id)}
    return line | {"description": description, "class_code": form.get(f"line-{index}-class_code") or None}


@router.post("/new")
async def create_from_wizard(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.RFQ_MANAGE)
    session, form = await tx.session(), await request.form()
    try:
        lines = [line for index in range(WIZARD_LINES) if (line := await _wizard_line(session, form, index))]
        deadline = dt.datetime.fromisoformat(str(form.get("deadline"))).replace(tzinfo=dt.UTC)
        fields = schemas.RfqCreate.model_validate({
            "title": form.get("title"), "currency": form.get("currency"), "delivery_site_id": form.get("site"),
            "deadline": deadline, "terms": form.get("terms") or "", "visibility": form.get("visibility"),
            "supplier_org_ids": form.getlist("supplier"), "lines": lines})
        view = await requests.create_rfq(session, actor=principal.actor, fields=fields)
    except (ValidationError, TradeloomError, ValueError) as exc:
        errors = form_errors(exc) if isinstance(exc, ValidationError | TradeloomError) else [str(exc)]
        await tx.abandon()
        return await _wizard(request, principal, await tx.session(), dict(form), errors, 422)
    return RedirectResponse(f"/rfqs/{view.rfq.id}", status_code=303)


async def _detail(request: Request, principal: Principal, session: AsyncSession, rfq_id: uuid.UUID,
                  errors: list[str] | None = None, status_code: int = 200) -> Response:
    view = await requests.rfq_view(session, rfq_id=rfq_id)
    is_buyer = view.rfq.org_id == principal.org_id
    closed = await database_now(session) >= view.rfq.deadline
    context: dict[str, Any] = {"view": view, "is_buyer": is_buyer, "closed": closed, "errors": errors or [],
                               "questions": await questions.questions(session, rfq_id=rfq_id),
                               "awards": await award.awards_of(session, rfq_id=rfq_id)}
    if is_buyer:
        context["invitations"] = await invitations.invitations(session, rfq_id=rfq_id)
        context["matches"] = await matching.line_matches(session, rfq=view.rfq, lines=view.lines)
        context["matrix"] = await comparison.compare(session, actor=principal.actor, rfq_id=rfq_id) if closed else None
    else:
        context["mine"] = await quotations.own_quotations(session, actor=principal.actor, rfq_id=rfq_id)
    shown = {view.rfq.org_id, *(i.supplier_org_id for i in context.get("invitations", []))}
    shown |= {m.supplier_org_id for line in context.get("matches", []) for m in line.suppliers}
    context["orgs"] = await org_names(session, shown)
    # suppliers lacking a valid document the buyer requires (an expired ISO 9001 …) are flagged in the lists
    context["lacking"] = await expired_required(session, buyer_org_id=view.rfq.org_id, today=dt.date.today(),
                                                supplier_org_ids=shown - {view.rfq.org_id}) if is_buyer else {}
    return render(request, "rfq/detail.html", context, principal=principal, status_code=status_code)


@router.get("/{rfq_id}")
async def rfq_page(rfq_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    return await _detail(request, principal, await tx.session(), rfq_id)


async def _act(request: Request, principal: Principal, tx: Tx, rfq_id: uuid.UUID, action: Any) -> Response:
    """Run one form action; a refusal shows the RFQ page again with the reason (and nothing changed)."""

    async def show_again(session: AsyncSession, errors: list[str], status: int) -> Response:
        return await _detail(request, principal, session, rfq_id, errors, status)

    return await run_form_action(request, tx, action, done_url=f"/rfqs/{rfq_id}", show_again=show_again)


@router.post("/{rfq_id}/invite-top")
async def invite_top(rfq_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.RFQ_MANAGE)

    async def action(session: AsyncSession, form: Any) -> None:
        top = schemas.InviteTopIn.model_validate({"top": form.get("top")}).top
        await matching.invite_top(session, actor=principal.actor, rfq_id=rfq_id, top=top)
    return await _act(request, principal, tx, rfq_id, action)


@router.post("/{rfq_id}/questions")
async def ask(rfq_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.QUOTATION_SUBMIT)

    async def action(session: AsyncSession, form: Any) -> None:
        text = schemas.QuestionIn.model_validate({"question": form.get("question")}).question
        await questions.ask(session, actor=principal.actor, rfq_id=rfq_id, question=text)
    return await _act(request, principal, tx, rfq_id, action)


@router.post("/{rfq_id}/questions/{question_id}/answer")
async def answer(rfq_id: uuid.UUID, question_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.RFQ_MANAGE)

    async def action(session: AsyncSession, form: Any) -> None:
        text = schemas.AnswerIn.model_validate({"answer": form.get("answer")}).answer
        await questions.answer(session, actor=principal.actor, rfq_id=rfq_id, question_id=question_id, text=text)
    return await _act(request, principal, tx, rfq_id, action)


@router.post("/{rfq_id}/quotations")
async def quote(rfq_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.QUOTATION_SUBMIT)

    async def action(session: AsyncSession, form: Any) -> None:
        view = await requests.rfq_view(session, rfq_id=rfq_id)
        lines = [{"rfq_line_id": str(line.id), "unit": form.get(f"unit-{line.id}"),
                  "lead_time_days": form.get(f"lead-{line.id}"),
                  "price_tiers": [{"min_quantity": "0", "unit_price": form.get(f"price-{line.id}")}]}
                 for line in view.lines if form.get(f"price-{line.id}")]
        fields = schemas.QuotationIn.model_validate({
            "currency": view.rfq.currency, "valid_until": form.get("valid_until"),
            "freight": form.get("freight") or "0", "notes": form.get("notes") or "", "lines": lines})
        await quotations.submit_quotation(session, actor=principal.actor, rfq_id=rfq_id, fields=fields)
    return await _act(request, principal, tx, rfq_id, action)


def _quantity(text: object) -> str | None:
    try:
        return str(Decimal(str(text))) if text and Decimal(str(text)) > 0 else None
    except InvalidOperation:
        return None


@router.post("/{rfq_id}/award")
async def award_page(rfq_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.RFQ_MANAGE)

    async def action(session: AsyncSession, form: Any) -> None:
        lines = [{"quotation_line_id": key.removeprefix("award-"), "quantity": quantity}
                 for key, value in form.items() if key.startswith("award-") and (quantity := _quantity(value))]
        fields = schemas.AwardIn.model_validate({"outcome": form.get("outcome"), "lines": lines})
        await award.award_rfq(session, actor=principal.actor, rfq_id=rfq_id, fields=fields,
                              expected_version=form_version(form.get("version")), placer=order_placer(request))
    return await _act(request, principal, tx, rfq_id, action)


def install(app: FastAPI) -> None:
    """RFQ pages, templates and the menu entry."""
    add_template_dir(Path(__file__).resolve().parent / "templates")
    environment.globals.update(plain=plain, rfq_status_label=lambda value: STATUS_LABELS.get(value, value),
                               quotation_status_label=lambda value: STATUS_LABELS.get(value, value))
    app.include_router(router)
    add_nav_item(NavItem("/rfqs", N_("RFQs"), order=20))
