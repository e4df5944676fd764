"""Settlement API: invoices and notes, match exceptions, fapiao files, bank statements, escrow, balances."""

import datetime as dt
import uuid
from typing import Annotated

from fastapi import Depends, File, Request, Response, UploadFile

from commerce.settlement import invoices, journal, milestones, notes, payments, service
from commerce.settlement.invoice_models import Invoice
from commerce.settlement.rules import InvoiceStatus, is_overdue
from commerce.settlement.schemas import (
    BalanceOut,
    EscrowDepositIn,
    ImportResultOut,
    InvoiceCreate,
    InvoiceDetailOut,
    InvoiceLineOut,
    InvoiceOut,
    MatchLineIn,
    NoteCreate,
    PaymentInstructionsOut,
    PaymentOut,
    PaymentRequestOut,
    ResolutionIn,
    StatementLineOut,
    TolerancesIn,
)
from commerce.settlement.statements import MAX_BYTES
from tradeloom.auth import CurrentPrincipal, Principal, requires
from tradeloom.concurrency import ExpectedVersion, set_etag
from tradeloom.errors import Invalid
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

PREFIX = "/api/v1/settlement"
router = PrefixedRouter(prefix=PREFIX, tags=["settlement"], route_class=TransactionalRoute)
Issuer = Annotated[Principal, Depends(requires(Permission.INVOICE_ISSUE))]
Approver = Annotated[Principal, Depends(requires(Permission.INVOICE_APPROVE))]
Treasurer = Annotated[Principal, Depends(requires(Permission.PAYMENT_MANAGE))]


def _answer(response: Response, invoice: Invoice) -> InvoiceOut:
    set_etag(response, invoice.version)
    return InvoiceOut.model_validate(invoice)


@router.post("/invoices", status_code=201)
async def issue_invoice(body: InvoiceCreate, principal: Issuer, session: DbSession, response: Response,
                        _key: Idempotent) -> InvoiceOut:
    """Invoice order lines (all or part of their quantity); each line is three-way matched at once."""
    invoice = await invoices.issue_invoice(
        session, actor=principal.actor,
        fapiao=invoices.FapiaoDraft(body.fapiao_type, body.fapiao_number, body.issue_date),
        lines=[invoices.InvoiceLineDraft(line.order_id, line.order_line_id, line.quantity, line.unit_price,
                                         line.tax_rate) for line in body.lines])
    response.headers["Location"] = f"{PREFIX}/invoices/{invoice.id}"
    return _answer(response, invoice)


@router.get("/invoices")
async def list_invoices(principal: CurrentPrincipal, session: DbSession,
                        status: InvoiceStatus | None = None) -> list[InvoiceOut]:
    """The caller's invoices and notes, as buyer or supplier, newest first."""
    found = await invoices.list_invoices(session, actor=principal.actor, status=status)
    return [InvoiceOut.model_validate(invoice) for invoice in found]


@router.get("/invoices/{invoice_id}")
async def get_invoice(invoice_id: uuid.UUID, principal: CurrentPrincipal, session: DbSession,
                      response: Response) -> InvoiceDetailOut:
    """One invoice with its lines' match results and the amount still outstanding (from the journal)."""
    view = await invoices.invoice_view(session, actor=principal.actor, invoice_id=invoice_id)
    set_etag(response, view.invoice.version)
    return InvoiceDetailOut.model_validate({
        **InvoiceOut.model_validate(view.invoice).model_dump(),
        "lines": [InvoiceLineOut.model_validate(line) for line in view.lines], "outstanding": view.outstanding,
        "overdue": is_overdue(view.invoice.due_date, view.outstanding, dt.date.today())})


@router.post("/invoices/{invoice_id}/lines/{line_no}/resolution")
async def resolve_line(invoice_id: uuid.UUID, line_no: int, body: ResolutionIn, principal: Approver,
                       session: DbSession, response: Response, expected_version: ExpectedVersion,
                       _key: Idempotent) -> InvoiceOut:
    """The buyer resolves a match exception: accept the variance, reject, or request a credit note."""
    invoice = await invoices.resolve_line(session, actor=principal.actor, invoice_id=invoice_id, line_no=line_no,
                                          resolution=body.resolution, note=body.note,
                                          expected_version=expected_version)
    return _answer(response, invoice)


@router.post("/invoices/{invoice_id}/notes", status_code=201)
async def issue_note(invoice_id: uuid.UUID, body: NoteCreate, principal: Issuer, session: DbSession,
                     response: Response, _key: Idempotent) -> InvoiceOut:
    """A credit or debit note against the invoice, adjusting lines in quantity or price."""
    note = await notes.issue_note(
        session, actor=principal.actor, invoice_id=invoice_id, kind=body.kind,
        fapiao=invoices.FapiaoDraft(body.fapiao_type, body.fapiao_number, body.issue_date),
        lines=[notes.NoteLineDraft(line.invoice_line_no, line.adjusts, line.quantity, line.unit_price)
               for line in body.lines])
    response.headers["Location"] = f"{PREFIX}/invoices/{note.id}"
    return _answer(response, note)


@router.post("/invoices/{invoice_id}/fapiao-file")
async def attach_fapiao_file(invoice_id: uuid.UUID, request: Request, principal: Issuer, session: DbSession,
                             response: Response, file: Annotated[UploadFile, File()]) -> InvoiceOut:
    """Attach the fapiao PDF or OFD; its SHA-256 is stored and recorded as evidence (attaching the same file
    again changes nothing but the evidence log)."""
    invoice = await invoices.attach_fapiao_file(
        session, actor=principal.actor, invoice_id=invoice_id, filename=file.filename or "fapiao",
        content=await file.read(invoices.MAX_FAPIAO_BYTES + 1),
        store_in=request.app.state.settings.data_dir / "fapiao")
    return _answer(response, invoice)


@router.get("/invoices/{invoice_id}/payment-instructions")
async def payment_instructions(invoice_id: uuid.UUID, principal: CurrentPrincipal,
                               session: DbSession) -> PaymentInstructionsOut:
    """How the buyer pays this invoice by bank transfer (the reference to quote); 404 for others' invoices."""
    method, result = await service.payment_instructions(session, actor=principal.actor, invoice_id=invoice_id)
    return PaymentInstructionsOut(method=method, status=result.status.value, instructions=result.instructions)


@router.put("/match-tolerances")
async def set_tolerances(body: TolerancesIn, principal: Approver, session: DbSession) -> TolerancesIn:
    """The buyer's three-way match tolerances in % (quantity above received, price above the order)."""
    await service.set_tolerances(session, actor=principal.actor, quantity_pct=body.quantity_pct,
                                 price_pct=body.price_pct)
    return body


@router.post("/bank-statements", status_code=201)
async def import_statement(principal: Treasurer, session: DbSession,
                           file: Annotated[UploadFile, File()]) -> ImportResultOut:
    """Import a bank statement (camt.053 XML or CSV): credits are matched to invoices or queued. Replays are
    harmless without an Idempotency-Key: a line already imported (same bank reference) is skipped."""
    content = await file.read(MAX_BYTES + 1)
    if not content:
        raise Invalid("The statement file is empty.", code="statement_invalid")
    result = await payments.import_statement(session, actor=principal.actor, filename=file.filename or "",
                                             content=content)
    return ImportResultOut.model_validate(result)


@router.get("/bank-statements/unmatched")
async def unmatched_lines(principal: Treasurer, session: DbSession) -> list[StatementLineOut]:
    """Statement lines no invoice claimed yet (the reconciliation queue)."""
    return [StatementLineOut.model_validate(line) for line in await payments.unmatched_lines(session)]


@router.post("/bank-statements/{line_id}/match")
async def match_line(line_id: uuid.UUID, body: MatchLineIn, principal: Treasurer, session: DbSession,
                     _key: Idempotent) -> Response:
    """Match a queued statement line to one of your invoices by hand."""
    await payments.match_line(session, actor=principal.actor, line_id=line_id, invoice_id=body.invoice_id)
    return Response(status_code=204)


@router.get("/payments")
async def list_payments(principal: CurrentPrincipal, session: DbSession) -> list[PaymentOut]:
    """Payments the caller's organization made or received, newest first."""
    return [PaymentOut.model_validate(payment) for payment in await payments.payments_for(session)]


@router.post("/orders/{order_id}/escrow/deposits", status_code=201)
async def deposit_escrow(order_id: uuid.UUID, body: EscrowDepositIn, principal: Treasurer, session: DbSession,
                         _key: Idempotent) -> PaymentOut:
    """The buyer pays into the platform escrow for an order (担保交易)."""
    payment = await payments.deposit_escrow(session, actor=principal.actor, order_id=order_id, amount=body.amount)
    return PaymentOut.model_validate(payment)


@router.post("/orders/{order_id}/escrow/release")
async def release_escrow(order_id: uuid.UUID, principal: Treasurer, session: DbSession,
                         _key: Idempotent) -> list[PaymentOut]:
    """Release to the supplier what the goods received so far are worth, as payments of the order's invoices
    (oldest first, at most what they have outstanding); nothing to release ⇒ an empty list."""
    released = await payments.release_escrow(session, actor=principal.actor, order_id=order_id)
    return [PaymentOut.model_validate(payment) for payment in released]


@router.post("/orders/{order_id}/escrow/refund")
async def refund_escrow(order_id: uuid.UUID, principal: Treasurer, session: DbSession,
                        _key: Idempotent) -> PaymentOut | None:
    """Refund what is still held for a cancelled order (nothing held ⇒ null)."""
    payment = await payments.refund_escrow(session, actor=principal.actor, order_id=order_id)
    return PaymentOut.model_validate(payment) if payment else None


@router.get("/balances")
async def balances(principal: CurrentPrincipal, session: DbSession) -> list[BalanceOut]:
    """The caller's trial balance: every account's debits minus credits, per currency."""
    return [BalanceOut(account=kind.value, currency=currency, balance=amount)
            for kind, currency, amount in await journal.trial_balance(session, org_id=principal.org_id)]


@router.get("/payment-requests")
async def list_payment_requests(principal: CurrentPrincipal, session: DbSession, order_id: uuid.UUID | None = None,
                                status: str | None = None) -> list[PaymentRequestOut]:
    """Milestone payment requests of the caller's orders (as buyer or supplier), with transfer instructions."""
    today = dt.date.today()
    return [PaymentRequestOut.model_validate(request).model_copy(update={
        "overdue": request.status == "open" and request.due_date < today,
        "instructions": milestones.transfer_instructions(request)})
        for request in await milestones.list_requests(session, order_id=order_id, status=status)]
