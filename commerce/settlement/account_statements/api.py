"""Reconciliation statements API: read (JSON, XLSX, PDF) and confirm."""

from typing import Annotated

from fastapi import Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from commerce.settlement.account_statements import exports, schemas, service
from tradeloom.auth import Principal, requires
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.identity.service import get_organization
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute
from tradeloom.web.i18n import request_locale

router = PrefixedRouter(prefix="/api/v1/account-statements", tags=["statements"], route_class=TransactionalRoute)
Finance = Annotated[Principal, Depends(requires(Permission.PAYMENT_MANAGE))]
Wanted = Annotated[schemas.StatementQuery, Query()]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def statement_out(statement: service.Statement) -> schemas.StatementOut:
    key = statement.key
    return schemas.StatementOut(
        supplier_org_id=key.supplier_org_id, buyer_org_id=key.buyer_org_id, currency=key.currency,
        period_start=key.period_start, period_end=key.period_end, side=statement.side,
        opening_balance=statement.opening_balance, closing_balance=statement.closing_balance,
        lines=[schemas.StatementLineOut.model_validate(line) for line in statement.lines], digest=statement.digest,
        status=statement.status.value,
        confirmations=[schemas.ConfirmationOut.model_validate(c) for c in statement.confirmations])


async def read_statement(session: DbSession, principal: Principal, wanted: schemas.StatementQuery) -> service.Statement:
    key = service.key_for(principal.actor, **wanted.model_dump())
    return await service.statement(session, principal.actor, key)


async def _names(session: DbSession, statement: service.Statement) -> tuple[str, str]:
    supplier = await get_organization(session, statement.key.supplier_org_id)
    buyer = await get_organization(session, statement.key.buyer_org_id)
    return supplier.name_zh, buyer.name_zh


def _filename(statement: service.Statement, extension: str) -> dict[str, str]:
    key = statement.key
    name = f"statement-{key.currency}-{key.period_start}-{key.period_end}.{extension}"
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get("")
async def get_statement(wanted: Wanted, principal: Finance, session: DbSession) -> schemas.StatementOut:
    """The statement with a counterparty for a period: opening balance, lines, closing balance, confirmations."""
    return statement_out(await read_statement(session, principal, wanted))


@router.get("/export.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}})
async def export_xlsx(wanted: Wanted, principal: Finance, session: DbSession, request: Request) -> Response:
    """The same statement as an Excel workbook."""
    statement = await read_statement(session, principal, wanted)
    _ = _gettext(request)
    workbook = exports.statement_xlsx(statement, await _names(session, statement), _)
    return Response(workbook, media_type=XLSX, headers=_filename(statement, "xlsx"))


@router.get("/export.pdf", response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
async def export_pdf(wanted: Wanted, principal: Finance, session: DbSession, request: Request) -> Response:
    """The same statement as a PDF document."""
    statement = await read_statement(session, principal, wanted)
    locale = request_locale(request, request.app.state.settings.default_locale)
    html = exports.statement_html(statement, await _names(session, statement), _gettext(request), locale)
    return Response(await run_in_threadpool(exports.statement_pdf, html), media_type="application/pdf",
                    headers=_filename(statement, "pdf"))


@router.post("/confirmations", status_code=201)
async def confirm_statement(body: schemas.StatementConfirm, principal: Finance, session: DbSession,
                            _key: Idempotent) -> schemas.StatementOut:
    """Confirm the statement you read (by its digest); agreed once both parties confirmed the same digest."""
    wanted = schemas.StatementQuery(**body.model_dump(exclude={"digest"}))
    key = service.key_for(principal.actor, **wanted.model_dump())
    return statement_out(await service.confirm(session, principal.actor, key, digest=body.digest))


def _gettext(request: Request) -> exports.Gettext:
    locale = request_locale(request, request.app.state.settings.default_locale)
    return request.app.state.translations[locale].gettext
