"""Finance page: suppliers request early payment and accept offers; financiers bid in the receivables marketplace
(with a chart of open receivables by maturity); buyers offer dynamic discounts and pay assigned invoices."""

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from commerce.settlement import invoices
from commerce.settlement.finance import schemas, service
from commerce.settlement.rules import InvoiceStatus
from tradeloom.auth import Principal
from tradeloom.identity.roles import OrgKind, Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import TransactionalRoute, Tx
from tradeloom.web.forms import FormAction, run_form_action, show_page_again
from tradeloom.web.i18n import request_locale
from tradeloom.web.labels import N_
from tradeloom.web.navigation import NavItem, add_nav_item
from tradeloom.web.pages import Member
from tradeloom.web.templating import add_template_dir, render

router = PrefixedRouter(prefix="/settlement/finance", route_class=TransactionalRoute, include_in_schema=False)
PAGE = "/settlement/finance"
BUCKET_LABELS = {"0-30": N_("Within 30 days"), "31-60": N_("31–60 days"), "61-90": N_("61–90 days"),
                 "90+": N_("Over 90 days")}
OFFER_LABELS = {"offered": N_("Standing"), "accepted": N_("Accepted"), "declined": N_("Declined"),
                "withdrawn": N_("Withdrawn"), "expired": N_("Expired")}


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


async def _page(request: Request, principal: Principal, session: AsyncSession, errors: list[str],
                status_code: int = 200) -> Response:
    today = _today()
    requests = await service.list_requests(session)
    offered = {request.id: await service.offers_for(session, request.id) for request in requests
               if request.org_id == principal.org_id and request.status == "open"}
    financed = {r.invoice_id for r in requests if r.status != "withdrawn"}
    eligible = [invoice for invoice in await invoices.list_invoices(session, actor=principal.actor,
                                                                     status=InvoiceStatus.APPROVED)
                if invoice.supplier_org_id == principal.org_id and invoice.id not in financed
                and invoice.due_date > today]
    market = [r for r in requests if r.status == "open" and r.org_id != principal.org_id]
    buckets = service.maturity_buckets(market, today)
    gettext = request.app.state.translations[request_locale(request, request.app.state.settings.default_locale)].gettext
    return render(request, "finance/page.html", {
        "errors": errors, "eligible": eligible, "own_requests": [r for r in requests if r.org_id == principal.org_id],
        "offered": offered, "market": market, "is_financier": principal.org_kind == OrgKind.FINANCIER,
        "assignments": await service.list_assignments(session),
        "offers_made": await service.offers_made(session, org_id=principal.org_id),
        "offer_state": lambda offer: service.offer_state(offer, today), "today": today, "offer_labels": OFFER_LABELS,
        "chart": {"labels": [gettext(BUCKET_LABELS[name]) for name in buckets],
                  "amounts": [f"{amount:.2f}" for amount in buckets.values()]},
    }, principal=principal, status_code=status_code)


@router.get("")
async def finance_page(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.FINANCE_OFFER)
    return await _page(request, principal, await tx.session(), [])


@router.post("/requests")
async def request_early_payment(request: Request, principal: Member, tx: Tx) -> Response:
    async def action(session: AsyncSession, form: FormData) -> None:
        body = schemas.RequestCreate.model_validate({"invoice_id": form.get("invoice_id")})
        await service.request_early_payment(session, actor=principal.actor, invoice_id=body.invoice_id,
                                            today=_today())
    return await _run(request, principal, tx, action)


@router.post("/requests/{request_id}/offers")
async def make_offer(request_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    async def action(session: AsyncSession, form: FormData) -> None:
        body = schemas.OfferCreate.model_validate({"annual_rate_pct": form.get("annual_rate_pct"),
                                                   "expires_on": form.get("expires_on") or None})
        await service.make_offer(session, actor=principal.actor, org_kind=principal.org_kind, request_id=request_id,
                                 annual_rate_pct=Decimal(body.annual_rate_pct), today=_today(),
                                 expires_on=body.expires_on)
    return await _run(request, principal, tx, action)


@router.post("/offers/{offer_id}/accept")
async def accept_offer(offer_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    async def action(session: AsyncSession, form: FormData) -> None:
        await service.accept_offer(session, actor=principal.actor, offer_id=offer_id, today=_today())
    return await _run(request, principal, tx, action)


@router.post("/offers/{offer_id}/withdraw")
async def withdraw_offer(offer_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    async def action(session: AsyncSession, form: FormData) -> None:
        await service.withdraw_offer(session, actor=principal.actor, offer_id=offer_id)
    return await _run(request, principal, tx, action)


@router.post("/assignments/{assignment_id}/settle")
async def settle(assignment_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    async def action(session: AsyncSession, form: FormData) -> None:
        await service.settle_assignment(session, actor=principal.actor, assignment_id=assignment_id)
    return await _run(request, principal, tx, action)


async def _run(request: Request, principal: Principal, tx: Tx, action: FormAction) -> Response:
    principal.require(Permission.FINANCE_OFFER)
    return await run_form_action(request, tx, action, done_url=PAGE,
                                 show_again=show_page_again(_page, request, principal))



def install(app: FastAPI) -> None:
    """The finance page and its menu entry."""
    add_template_dir(Path(__file__).resolve().parent / "templates")
    app.include_router(router)
    add_nav_item(NavItem(PAGE, N_("Supply-chain finance"), permission=Permission.FINANCE_OFFER, order=62))
