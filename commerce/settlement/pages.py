"""Settlement pages: the supplier invoices received goods and sees payments; the buyer's invoice inbox with
match results and exceptions to resolve, bank transfer instructions, and escrow release on receipt.

Each page calls the same services as the API; a refused action is shown on the page, never a 500.
"""

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from commerce.settlement import invoices, page_views, payments
from commerce.settlement.rules import FapiaoType, Resolution, TaxRate
from commerce.settlement.statements import MAX_BYTES
from tradeloom.auth import Principal
from tradeloom.errors import Invalid
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import TransactionalRoute, Tx
from tradeloom.web.forms import form_version, run_form_action
from tradeloom.web.labels import N_
from tradeloom.web.navigation import NavItem, add_nav_item
from tradeloom.web.pages import Member
from tradeloom.web.templating import add_template_dir, render

router = PrefixedRouter(prefix="/settlement", route_class=TransactionalRoute, include_in_schema=False)
STATUS_LABELS = {"approved": N_("Approved for payment"), "exception": N_("Match exception"),
                 "rejected": N_("Rejected"), "matched": N_("Matched"), "accepted": N_("Variance accepted"),
                 "credit_requested": N_("Credit note requested")}
KIND_LABELS = {"invoice": N_("Invoice"), "credit_note": N_("Credit note"), "debit_note": N_("Debit note"),
               "payment": N_("Payment"), "escrow_deposit": N_("Escrow deposit"),
               "escrow_release": N_("Escrow release"), "escrow_refund": N_("Escrow refund"),
               "milestone": N_("Milestone payment")}
FAPIAO_TYPE_LABELS = {"special": N_("Special VAT fapiao"), "ordinary": N_("Ordinary VAT fapiao"),
                      "electronic": N_("E-fapiao")}
MILESTONE_LABELS = {"confirmation": N_("Prepayment on confirmation"), "shipment": N_("On shipment"),
                    "receipt": N_("On receipt"), "invoice": N_("After the invoice (net days)")}
REASON_LABELS = {"quantity_not_received": N_("Invoiced more than received"),
                 "price_above_order": N_("Price above the order")}


def _helpers() -> dict[str, Any]:
    return {"status_labels": STATUS_LABELS, "kind_labels": KIND_LABELS, "reason_labels": REASON_LABELS,
            "fapiao_type_labels": FAPIAO_TYPE_LABELS, "milestone_labels": MILESTONE_LABELS,
            "plain": lambda value: f"{Decimal(value).normalize():f}" if value is not None else ""}


@router.get("/invoices")
async def invoice_list(request: Request, principal: Member, tx: Tx) -> Response:
    context = await page_views.invoice_list(await tx.session(), principal)
    return render(request, "settlement/invoices.html", context | _helpers(), principal=principal)


async def _detail(request: Request, principal: Principal, session: AsyncSession, invoice_id: uuid.UUID,
                  errors: list[str] | None = None, status_code: int = 200) -> Response:
    context = await page_views.invoice_page(session, principal, invoice_id)
    return render(request, "settlement/invoice.html", context | _helpers() | {"errors": errors or []},
                  principal=principal, status_code=status_code)


@router.get("/invoices/{invoice_id}")
async def invoice_page(invoice_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    return await _detail(request, principal, await tx.session(), invoice_id)


async def _act_on_invoice(request: Request, principal: Principal, tx: Tx, invoice_id: uuid.UUID,
                          action: Any) -> Response:
    async def show_again(session: AsyncSession, errors: list[str], status: int) -> Response:
        return await _detail(request, principal, session, invoice_id, errors, status)

    return await run_form_action(request, tx, action, done_url=f"/settlement/invoices/{invoice_id}",
                                 show_again=show_again)


@router.post("/invoices/{invoice_id}/lines/{line_no}/resolve")
async def resolve_line(invoice_id: uuid.UUID, line_no: int, request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.INVOICE_APPROVE)

    async def action(session: AsyncSession, form: Any) -> None:
        resolution = form.get("resolution", "")
        if resolution not in Resolution._value2member_map_:
            raise Invalid("Choose how to resolve the exception.", code="resolution_invalid")
        await invoices.resolve_line(session, actor=principal.actor, invoice_id=invoice_id, line_no=line_no,
                                    resolution=Resolution(resolution), note=(form.get("note") or None),
                                    expected_version=form_version(form.get("version")))
    return await _act_on_invoice(request, principal, tx, invoice_id, action)


@router.post("/invoices/{invoice_id}/escrow/{order_id}/release")
async def release_escrow(invoice_id: uuid.UUID, order_id: uuid.UUID, request: Request, principal: Member,
                         tx: Tx) -> Response:
    principal.require(Permission.PAYMENT_MANAGE)

    async def action(session: AsyncSession, form: Any) -> None:
        if not await payments.release_escrow(session, actor=principal.actor, order_id=order_id):
            raise Invalid("Nothing to release: no goods received beyond what was released.",
                          code="escrow_nothing_to_release")
    return await _act_on_invoice(request, principal, tx, invoice_id, action)


async def _new_invoice(request: Request, principal: Principal, session: AsyncSession, order_id: uuid.UUID,
                       errors: list[str] | None = None, status_code: int = 200) -> Response:
    order, lines = await page_views.invoiceable_lines(session, order_id)
    context = {"order": order, "lines": lines, "errors": errors or [], "fapiao_types": list(FapiaoType),
               "today": dt.date.today().isoformat()}
    return render(request, "settlement/new_invoice.html", context | _helpers(), principal=principal,
                  status_code=status_code)


@router.get("/orders/{order_id}/invoice")
async def new_invoice(order_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.INVOICE_ISSUE)
    return await _new_invoice(request, principal, await tx.session(), order_id)


def _drafts(order_id: uuid.UUID, lines: list[page_views.InvoiceableLine],
            form: Any) -> list[invoices.InvoiceLineDraft]:
    """The lines given a quantity on the form (blank or 0: not invoiced now)."""
    drafts = []
    for item in lines:
        quantity_text, price_text = form.get(f"qty-{item.line.id}", ""), form.get(f"price-{item.line.id}", "")
        try:
            quantity, price = Decimal(quantity_text or "0"), Decimal(price_text or "0")
        except InvalidOperation:
            raise Invalid(f"Line {item.line.line_no}: quantity and price are numbers.",
                          code="invoice_lines_invalid") from None
        if quantity:
            drafts.append(invoices.InvoiceLineDraft(order_id, item.line.id, quantity, price,
                                                    TaxRate(item.line.tax_rate)))
    return drafts


@router.post("/orders/{order_id}/invoice")
async def issue_invoice(order_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.INVOICE_ISSUE)
    created: list[uuid.UUID] = []

    async def action(session: AsyncSession, form: Any) -> None:
        _, lines = await page_views.invoiceable_lines(session, order_id)
        fapiao_type = form.get("fapiao_type", "")
        try:
            issue_date = dt.date.fromisoformat(form.get("issue_date", ""))
        except ValueError:
            raise Invalid("Give the fapiao's issue date.", code="invoice_date_invalid") from None
        if fapiao_type not in FapiaoType._value2member_map_ or not form.get("fapiao_number", "").isalnum():
            raise Invalid("Give the fapiao type and number (digits and letters).", code="fapiao_invalid")
        invoice = await invoices.issue_invoice(
            session, actor=principal.actor, lines=_drafts(order_id, lines, form),
            fapiao=invoices.FapiaoDraft(FapiaoType(fapiao_type), form["fapiao_number"][:20], issue_date))
        created.append(invoice.id)

    async def show_again(session: AsyncSession, errors: list[str], status: int) -> Response:
        return await _new_invoice(request, principal, session, order_id, errors, status)

    response = await run_form_action(request, tx, action, done_url="/settlement/invoices", show_again=show_again)
    if created:
        response.headers["Location"] = f"/settlement/invoices/{created[0]}"
    return response


async def _statements(request: Request, principal: Principal, session: AsyncSession,
                      errors: list[str] | None = None, status_code: int = 200) -> Response:
    context = {"lines": await payments.unmatched_lines(session), "errors": errors or [],
               "invoices": await payments.matchable_invoices(session, supplier_org_id=principal.org_id)}
    return render(request, "settlement/bank_statements.html", context | _helpers(), principal=principal,
                  status_code=status_code)


async def _act_on_statements(request: Request, principal: Principal, tx: Tx, action: Any) -> Response:
    async def show_again(session: AsyncSession, errors: list[str], status: int) -> Response:
        return await _statements(request, principal, session, errors, status)

    return await run_form_action(request, tx, action, done_url="/settlement/bank-statements",
                                 show_again=show_again)


@router.get("/bank-statements")
async def bank_statements(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.PAYMENT_MANAGE)
    return await _statements(request, principal, await tx.session())


@router.post("/bank-statements")
async def upload_statement(request: Request, principal: Member, tx: Tx) -> Response:
    """Import a CSV or camt.053 file; no Idempotency-Key needed: a re-imported line is a duplicate and books
    nothing."""
    principal.require(Permission.PAYMENT_MANAGE)

    async def action(session: AsyncSession, form: Any) -> None:
        upload = form.get("file")
        content = await upload.read(MAX_BYTES + 1) if isinstance(upload, UploadFile) else b""
        if not content:
            raise Invalid("Choose a statement file (CSV or camt.053 XML).", code="statement_invalid")
        await payments.import_statement(session, actor=principal.actor, filename=upload.filename or "",
                                        content=content)
    return await _act_on_statements(request, principal, tx, action)


@router.post("/bank-statements/{line_id}/match")
async def match_statement_line(line_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.PAYMENT_MANAGE)

    async def action(session: AsyncSession, form: Any) -> None:
        try:
            invoice_id = uuid.UUID(form.get("invoice_id", ""))
        except ValueError:
            raise Invalid("Choose the invoice this line pays.", code="statement_line_mismatch") from None
        await payments.match_line(session, actor=principal.actor, line_id=line_id, invoice_id=invoice_id)
    return await _act_on_statements(request, principal, tx, action)


def install(app: FastAPI) -> None:
    """Register the settlement pages, their templates and the menu entry."""
    add_template_dir(Path(__file__).resolve().parent / "templates")
    app.include_router(router)
    add_nav_item(NavItem("/settlement/invoices", N_("Invoices"), order=30))
    add_nav_item(NavItem("/settlement/bank-statements", N_("Bank statements"), permission=Permission.PAYMENT_MANAGE,
                         order=59))
