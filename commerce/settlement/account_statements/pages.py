"""Statement page: choose a counterparty and a period, read the statement, confirm it, export it."""

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from commerce.settlement.account_statements import exports, schemas, service
from tradeloom.auth import Principal
from tradeloom.errors import TradeloomError
from tradeloom.identity.roles import Permission
from tradeloom.identity.service import list_organizations
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import TransactionalRoute, Tx
from tradeloom.web.forms import form_errors, run_form_action
from tradeloom.web.labels import N_
from tradeloom.web.navigation import NavItem, add_nav_item
from tradeloom.web.pages import Member
from tradeloom.web.templating import add_template_dir, environment, render

router = PrefixedRouter(prefix="/settlement/statements", route_class=TransactionalRoute, include_in_schema=False)
PAGE = "/settlement/statements"
QUERY_FIELDS = ("counterparty_org_id", "side", "currency", "period_start", "period_end")


def _default_query(principal: Principal) -> dict[str, str]:
    today = dt.datetime.now(dt.UTC).date()
    return {"side": "supplier" if principal.org_kind == "supplier" else "buyer", "currency": "CNY",
            "period_start": today.replace(day=1).isoformat(), "period_end": today.isoformat()}


async def _page(request: Request, principal: Principal, session: AsyncSession, fields: dict[str, str],
                errors: list[str], status_code: int = 200) -> Response:
    statement = None
    if fields.get("counterparty_org_id") and not errors:
        try:
            wanted = schemas.StatementQuery.model_validate({name: fields.get(name) for name in QUERY_FIELDS})
            statement = await service.statement(session, principal.actor,
                                                service.key_for(principal.actor, **wanted.model_dump()))
        except (ValidationError, TradeloomError) as exc:
            errors, status_code = form_errors(exc), 422
    counterparties = [org for org in await list_organizations(session) if org.id != principal.org_id]
    return render(request, "account_statements/page.html", {
        "form": fields, "statement": statement, "errors": errors, "counterparties": counterparties,
        "export_query": urlencode({name: fields.get(name, "") for name in QUERY_FIELDS}),
        "confirmed_by_us": statement is not None and any(c.org_id == principal.org_id
                                                         for c in statement.confirmations),
    }, principal=principal, status_code=status_code)


@router.get("")
async def statement_page(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.PAYMENT_MANAGE)
    fields = _default_query(principal) | {k: v for k, v in request.query_params.items() if k in QUERY_FIELDS}
    return await _page(request, principal, await tx.session(), fields, [])


@router.post("/confirm")
async def confirm_statement(request: Request, principal: Member, tx: Tx) -> Response:
    """Confirm the statement shown (by its digest)."""
    principal.require(Permission.PAYMENT_MANAGE)
    fields = {k: str(v) for k, v in (await request.form()).items() if k in (*QUERY_FIELDS, "digest")}

    async def action(session: AsyncSession, form: FormData) -> None:
        body = schemas.StatementConfirm.model_validate(fields)
        key = service.key_for(principal.actor, **body.model_dump(exclude={"digest"}))
        await service.confirm(session, principal.actor, key, digest=body.digest)

    async def show_again(session: AsyncSession, errors: list[str], status: int) -> Response:
        return await _page(request, principal, session, fields, errors, status)

    query = urlencode({name: fields.get(name, "") for name in QUERY_FIELDS})
    return await run_form_action(request, tx, action, done_url=f"{PAGE}?{query}", show_again=show_again)


def install(app: FastAPI) -> None:
    """Templates of the statement document and page, and the menu entry."""
    add_template_dir(Path(__file__).resolve().parent / "templates")
    labels: dict[str, Any] = {**exports.CATEGORY_LABELS}
    environment.globals.update(statement_category=lambda value: labels.get(value, value),
                               statement_status=lambda value: exports.STATUS_LABELS.get(value, value))
    app.include_router(router)
    add_nav_item(NavItem(PAGE, N_("Statements"), permission=Permission.PAYMENT_MANAGE, order=61))
