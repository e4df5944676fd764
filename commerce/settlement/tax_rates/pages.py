"""Tax-rate page: the table and the class defaults for everyone; forms for the platform operator."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from commerce.settlement.schemas import ClassTaxRateIn, TaxRateIn
from commerce.settlement.tax_rates import service
from tradeloom.auth import Principal
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import TransactionalRoute, Tx
from tradeloom.web.forms import FormAction, run_form_action, show_page_again
from tradeloom.web.labels import N_
from tradeloom.web.navigation import NavItem, add_nav_item
from tradeloom.web.pages import Member
from tradeloom.web.templating import add_template_dir, render

router = PrefixedRouter(prefix="/settlement/tax-rates", route_class=TransactionalRoute, include_in_schema=False)
PAGE = "/settlement/tax-rates"


async def _page(request: Request, principal: Principal, session: AsyncSession, errors: list[str],
                status_code: int = 200) -> Response:
    return render(request, "tax_rates/page.html", {
        "errors": errors, "rates": await service.list_rates(session), "today": dt.date.today(),
        "class_rates": await service.list_class_rates(session),
        "operator": principal.can(Permission.PLATFORM_MANAGE),
    }, principal=principal, status_code=status_code)


@router.get("")
async def tax_rates_page(request: Request, principal: Member, tx: Tx) -> Response:
    return await _page(request, principal, await tx.session(), [])


@router.post("")
async def add_rate(request: Request, principal: Member, tx: Tx) -> Response:
    async def action(session: AsyncSession, form: FormData) -> None:
        body = TaxRateIn.model_validate({key: form.get(key) or None for key in (
            "code", "rate_pct", "name_zh", "name_en", "valid_from", "valid_to")} | {"country": "CN"})
        await service.add_rate(session, actor=principal.actor, country=body.country, code=body.code,
                               rate=body.rate_pct / Decimal(100), name_zh=body.name_zh, name_en=body.name_en,
                               valid_from=body.valid_from, valid_to=body.valid_to)
    return await _run(request, principal, tx, action)


@router.post("/classes")
async def set_class_rate(request: Request, principal: Member, tx: Tx) -> Response:
    async def action(session: AsyncSession, form: FormData) -> None:
        body = ClassTaxRateIn.model_validate({"tax_rate_code": form.get("tax_rate_code")})
        await service.set_class_rate(session, actor=principal.actor, class_code=str(form.get("class_code") or ""),
                                     tax_rate_code=body.tax_rate_code)
    return await _run(request, principal, tx, action)


async def _run(request: Request, principal: Principal, tx: Tx, action: FormAction) -> Response:
    principal.require(Permission.PLATFORM_MANAGE)
    return await run_form_action(request, tx, action, done_url=PAGE,
                                 show_again=show_page_again(_page, request, principal))



def install(app: FastAPI) -> None:
    """The tax-rate page and its menu entry."""
    add_template_dir(Path(__file__).resolve().parent / "templates")
    app.include_router(router)
    add_nav_item(NavItem(PAGE, N_("Tax rates"), permission=Permission.INVOICE_ISSUE, order=64))
