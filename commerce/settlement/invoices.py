"""Issuing invoices (发票) against purchase-order lines, three-way matching them line by line, and the buyer's
resolution of match exceptions. Credit and debit notes live in ``notes.py``; the journal entries in
``postings.py``.
"""

import asyncio
import datetime as dt
import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.receipts import received_quantities
from commerce.orders.models import OrderLine, PurchaseOrder
from commerce.orders.service.queries import order_detail
from commerce.settlement import advances, postings
from commerce.settlement.invoice_models import Invoice, InvoiceLine, MatchTolerance
from commerce.settlement.rules import (
    RESOLVED_STATE,
    FapiaoType,
    InvoiceKind,
    InvoiceStatus,
    LineAmounts,
    LineMatch,
    MatchInput,
    Resolution,
    Tolerances,
    due_date,
    exceeds_ordered,
    invoice_status,
    invoice_totals,
    line_amounts,
    match_reasons,
)
from commerce.settlement.tax_rates import service as tax_rates
from ledger.service import record_evidence
from tradeloom.audit import Actor, record_audit
from tradeloom.concurrency import check_version
from tradeloom.db import flush_or_conflict
from tradeloom.errors import Forbidden, Invalid, NotFound
from tradeloom.identity.service import get_organization
from tradeloom.outbox.service import emit

# An order can be invoiced once the supplier has confirmed it, up to and after its receipt.
INVOICEABLE = ("confirmed", "in_production", "partially_shipped", "shipped", "received", "closed")
PAYMENT_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class InvoiceLineDraft:
    order_id: uuid.UUID
    order_line_id: uuid.UUID
    quantity: Decimal
    unit_price: Decimal
    tax_rate: str  # a code of the tax-rate table in force on the fapiao's issue date (``TaxRate`` members are)


@dataclass(frozen=True)
class FapiaoDraft:
    fapiao_type: FapiaoType
    number: str
    issue_date: dt.date


@dataclass(frozen=True)
class InvoiceView:
    invoice: Invoice
    lines: list[InvoiceLine]
    outstanding: Decimal


def _problem(index: int, detail: str) -> dict[str, str]:
    return {"loc": f"lines.{index}", "detail": detail}


async def _order_lines(
    session: AsyncSession, actor: Actor, drafts: Sequence[InvoiceLineDraft],
) -> tuple[PurchaseOrder, dict[uuid.UUID, OrderLine]]:
    """The orders' lines, checked: the caller is their supplier, one buyer and currency, orders invoiceable."""
    orders: dict[uuid.UUID, PurchaseOrder] = {}
    lines: dict[uuid.UUID, OrderLine] = {}
    for order_id in dict.fromkeys(draft.order_id for draft in drafts):
        detail = await order_detail(session, order_id=order_id)  # 404 for an order of others
        orders[order_id] = detail.order
        lines |= {line.id: line for line in detail.lines}
    first = next(iter(orders.values()))
    if any(order.supplier_org_id != actor.org_id for order in orders.values()):
        raise Forbidden("Only the supplier of the orders can invoice them.", code="invoice_wrong_party")
    if len({(order.buyer_org_id, order.currency) for order in orders.values()}) > 1:
        raise Invalid("One invoice covers orders of one buyer in one currency.", code="invoice_mixed_orders")
    if any(order.status not in INVOICEABLE for order in orders.values()):
        raise Invalid("An order can be invoiced once the supplier has confirmed it.", code="order_not_invoiceable")
    return first, lines


async def _already_invoiced(session: AsyncSession, order_line_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Decimal]:
    """Quantity invoiced so far per order line: invoices and debit notes minus credit notes (quantity
    adjustments only), rejected invoices left out."""
    sign = case((Invoice.kind == InvoiceKind.CREDIT_NOTE.value, -1), else_=1)
    counted = (InvoiceLine.adjusts.is_(None)) | (InvoiceLine.adjusts == "quantity")
    rows = await session.execute(
        select(InvoiceLine.order_line_id, func.sum(sign * InvoiceLine.quantity))
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(InvoiceLine.order_line_id.in_(order_line_ids), Invoice.status != InvoiceStatus.REJECTED.value, counted)
        .group_by(InvoiceLine.order_line_id))
    found = dict(rows.all())
    return {line_id: found.get(line_id, Decimal(0)) for line_id in order_line_ids}


async def tolerances_of(session: AsyncSession, *, buyer_org_id: uuid.UUID) -> Tolerances:
    """The buyer's match tolerances (0 % / 0 % until the buyer sets them)."""
    row = await session.scalar(select(MatchTolerance).where(MatchTolerance.org_id == buyer_org_id))
    return Tolerances(row.quantity_pct, row.price_pct) if row else Tolerances()


def _new_payment_reference() -> str:
    return "TL" + "".join(secrets.choice(PAYMENT_REFERENCE_ALPHABET) for _ in range(10))


def _line_row(index: int, draft: InvoiceLineDraft, order_line: OrderLine, reasons: list[dict[str, str]],
              rate: Decimal) -> dict[str, object]:
    amounts = line_amounts(draft.quantity, draft.unit_price, rate)
    return {
        "line_no": index + 1, "order_id": draft.order_id, "order_line_id": draft.order_line_id,
        "material_code": order_line.material_code, "quantity": draft.quantity, "unit": order_line.unit,
        "unit_price": draft.unit_price, "tax_rate": str(draft.tax_rate), "net": amounts.net, "tax": amounts.tax,
        "gross": amounts.gross, "match_status": (LineMatch.EXCEPTION if reasons else LineMatch.MATCHED).value,
        "match_reasons": reasons,
    }


async def _rate_problem(session: AsyncSession, draft: InvoiceLineDraft, order_line: OrderLine,
                        issue_date: dt.date) -> tuple[Decimal | None, str | None]:
    """The line's rate as a fraction, or why it is wrong: not in force on the issue date, or not the material's
    rate (its class's default rate from the tax-rate table; the order line's rate when the class has none)."""
    code = str(draft.tax_rate)
    row = await tax_rates.rate_on(session, code=code, on=issue_date)
    if row is None:
        return None, f"tax rate {code} is not a rate in force on {issue_date}"
    expected = await tax_rates.class_default(session, class_code=order_line.material_class) or order_line.tax_rate
    if code != expected:
        return row.rate, f"tax rate {code} is not the rate of this material ({expected})"
    return row.rate, None


async def _matched_lines(
    session: AsyncSession, drafts: Sequence[InvoiceLineDraft], order_lines: dict[uuid.UUID, OrderLine],
    tolerances: Tolerances, issue_date: dt.date,
) -> list[dict[str, object]]:
    """Each draft checked against its order line (refusing what can never be invoiced) and matched."""
    ids = [draft.order_line_id for draft in drafts]
    invoiced = await _already_invoiced(session, ids)
    received = await received_quantities(session, order_line_ids=ids)
    problems, rows = [], []
    for index, draft in enumerate(drafts):
        order_line = order_lines.get(draft.order_line_id)
        if order_line is None or order_line.order_id != draft.order_id:
            problems.append(_problem(index, "not a line of that order"))
            continue
        rate, rate_problem = await _rate_problem(session, draft, order_line, issue_date)
        if rate_problem:
            problems.append(_problem(index, rate_problem))
        invoiced[draft.order_line_id] += draft.quantity
        facts = MatchInput(ordered=order_line.confirmed_quantity or order_line.quantity,
                           order_price=order_line.unit_price, received=received[draft.order_line_id],
                           invoiced_total=invoiced[draft.order_line_id], invoice_price=draft.unit_price)
        if exceeds_ordered(facts, tolerances):
            problems.append(_problem(index, f"invoiced quantity {facts.invoiced_total.normalize():f} exceeds the "
                                            f"ordered {facts.ordered.normalize():f}"))
        if rate is not None:
            rows.append(_line_row(index, draft, order_line, match_reasons(facts, tolerances), rate))
    if problems:
        raise Invalid("Some invoice lines cannot be accepted.", code="invoice_lines_invalid", errors=problems)
    return rows


def _check_drafts(drafts: Sequence[InvoiceLineDraft]) -> None:
    if not drafts:
        raise Invalid("An invoice needs at least one line.", code="invoice_lines_invalid")
    if any(draft.quantity <= 0 or draft.unit_price < 0 for draft in drafts):
        raise Invalid("Quantities are positive and prices not negative.", code="invoice_lines_invalid")
    if len({draft.order_line_id for draft in drafts}) != len(drafts):
        raise Invalid("Each order line appears once on an invoice.", code="invoice_lines_invalid")


async def issue_invoice(
    session: AsyncSession, *, actor: Actor, fapiao: FapiaoDraft, lines: Sequence[InvoiceLineDraft],
) -> Invoice:
    """The supplier invoices order lines (all or part of their quantity); each line is three-way matched."""
    _check_drafts(lines)
    order, order_lines = await _order_lines(session, actor, lines)
    tolerances = await tolerances_of(session, buyer_org_id=order.buyer_org_id)
    rows = await _matched_lines(session, lines, order_lines, tolerances, fapiao.issue_date)
    seller = await get_organization(session, order.supplier_org_id)
    buyer = await get_organization(session, order.buyer_org_id)
    totals = invoice_totals([LineAmounts(row["net"], row["tax"], row["gross"]) for row in rows])  # type: ignore[arg-type]
    states = [LineMatch(str(row["match_status"])) for row in rows]
    invoice = Invoice(
        kind=InvoiceKind.INVOICE.value, buyer_org_id=order.buyer_org_id, supplier_org_id=order.supplier_org_id,
        currency=order.currency, status=invoice_status(states).value, fapiao_type=fapiao.fapiao_type.value,
        fapiao_number=fapiao.number, issue_date=fapiao.issue_date, seller_name=seller.name_zh,
        seller_uscc=seller.uscc, buyer_name=buyer.name_zh, buyer_uscc=buyer.uscc, net_total=totals.net,
        tax_total=totals.tax, gross_total=totals.gross, due_date=due_date(fapiao.issue_date, order.payment_terms),
        payment_reference=_new_payment_reference(),
    )
    await record_document(session, actor, invoice, rows)
    for order_id in sorted({row["order_id"] for row in rows}, key=str):  # milestone money paid before the invoice
        await advances.apply_advances(session, order_id=order_id, viewer_org_id=actor.org_id)  # type: ignore[arg-type]
    return invoice


async def record_document(session: AsyncSession, actor: Actor, document: Invoice,
                          rows: Sequence[dict[str, object]]) -> None:
    """Store an invoice or note with its lines, post it to the journal and announce it."""
    session.add(document)
    await flush_or_conflict(session, f"Fapiao number {document.fapiao_number} is already used by this seller.",
                            "fapiao_number_duplicate")
    session.add_all(InvoiceLine(invoice_id=document.id, buyer_org_id=document.buyer_org_id,
                                supplier_org_id=document.supplier_org_id, **row) for row in rows)
    await session.flush()
    await postings.post_invoice(session, document)
    await announce(session, actor, document, f"{document.kind}.issued")


async def announce(session: AsyncSession, actor: Actor, invoice: Invoice, topic: str) -> None:
    """Outbox event, audit entry and evidence for one step of an invoice."""
    facts = {"invoice_id": str(invoice.id), "kind": invoice.kind, "fapiao_number": invoice.fapiao_number,
             "buyer_org_id": str(invoice.buyer_org_id), "supplier_org_id": str(invoice.supplier_org_id),
             "currency": invoice.currency, "gross_total": f"{invoice.gross_total:f}", "status": invoice.status}
    await emit(session, org_id=actor.org_id, topic=topic, payload=facts)
    await record_audit(session, actor=actor, action=topic, object_type="invoice", object_id=invoice.id)
    await record_evidence(session, org_id=actor.org_id, kind=topic, subject=f"invoice:{invoice.id}", payload=facts)


async def load_invoice(session: AsyncSession, invoice_id: uuid.UUID) -> Invoice:
    """The invoice if the caller is its buyer or supplier (404 otherwise, also for another tenant's)."""
    invoice = await session.scalar(select(Invoice).where(Invoice.id == invoice_id))
    if invoice is None:
        raise NotFound("No such invoice.", code="invoice_not_found")
    return invoice


async def invoice_lines(session: AsyncSession, invoice_id: uuid.UUID) -> list[InvoiceLine]:
    found = await session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id)
                                  .order_by(InvoiceLine.line_no))
    return list(found.all())


async def invoice_view(session: AsyncSession, *, actor: Actor, invoice_id: uuid.UUID) -> InvoiceView:
    """The invoice, its lines and what is still to be paid on it (from the journal)."""
    invoice = await load_invoice(session, invoice_id)
    return InvoiceView(invoice, await invoice_lines(session, invoice_id),
                       await postings.outstanding(session, invoice, viewer_org_id=actor.org_id))


async def list_invoices(session: AsyncSession, *, actor: Actor, status: InvoiceStatus | None = None,
                        limit: int = 100) -> list[Invoice]:
    """The caller's invoices and notes (as buyer or supplier), newest first."""
    query = select(Invoice).order_by(Invoice.created_at.desc()).limit(limit)
    if status is not None:
        query = query.where(Invoice.status == status.value)
    return list((await session.scalars(query)).all())


async def resolve_line(
    session: AsyncSession, *, actor: Actor, invoice_id: uuid.UUID, line_no: int, resolution: Resolution,
    note: str | None, expected_version: int,
) -> Invoice:
    """The buyer settles one match exception: accept the variance, reject the line, or ask for a credit note."""
    invoice = await load_invoice(session, invoice_id)
    if invoice.buyer_org_id != actor.org_id:
        raise Forbidden("Only the buyer resolves match exceptions.", code="invoice_wrong_party")
    check_version(invoice.version, expected_version)
    lines = await invoice_lines(session, invoice_id)
    line = next((line for line in lines if line.line_no == line_no), None)
    if line is None:
        raise NotFound("No such invoice line.", code="invoice_line_not_found")
    if line.match_status != LineMatch.EXCEPTION.value or invoice.status != InvoiceStatus.EXCEPTION.value:
        raise Invalid("Only an open match exception can be resolved.", code="match_not_open")
    line.match_status, line.resolution_note = RESOLVED_STATE[resolution].value, note
    await _restate(session, actor, invoice, lines)
    return invoice


async def _restate(session: AsyncSession, actor: Actor, invoice: Invoice, lines: Sequence[InvoiceLine]) -> None:
    """Derive the invoice's status from its lines; a rejection reverses the invoice in the journal."""
    status = invoice_status([LineMatch(line.match_status) for line in lines])
    if status.value == invoice.status:
        await session.flush()
        return
    invoice.status = status.value
    await session.flush()
    if status is InvoiceStatus.REJECTED:
        await postings.reverse_invoice(session, invoice)
    await announce(session, actor, invoice, f"invoice.{status.value}")


async def settle_credit_requests(session: AsyncSession, *, actor: Actor, invoice: Invoice) -> None:
    """A credit note answers the buyer's requests: the lines waiting for it count as accepted."""
    lines = await invoice_lines(session, invoice.id)
    for line in lines:
        if line.match_status == LineMatch.CREDIT_REQUESTED.value:
            line.match_status = LineMatch.ACCEPTED.value
    await _restate(session, actor, invoice, lines)


PDF_MAGIC, OFD_MAGIC = b"%PDF-", b"PK\x03\x04"  # an OFD file is a ZIP container
MAX_FAPIAO_BYTES = 10_000_000


def _media_type(filename: str, content: bytes) -> str:
    name = filename.lower()
    if name.endswith(".pdf") and content.startswith(PDF_MAGIC):
        return "application/pdf"
    if name.endswith(".ofd") and content.startswith(OFD_MAGIC):
        return "application/ofd"
    raise Invalid("Attach the fapiao as a PDF or OFD file.", code="fapiao_file_type")


async def attach_fapiao_file(
    session: AsyncSession, *, actor: Actor, invoice_id: uuid.UUID, filename: str, content: bytes, store_in: Path,
) -> Invoice:
    """The supplier attaches the fapiao's PDF/OFD: stored by its SHA-256 and the digest recorded as evidence."""
    invoice = await load_invoice(session, invoice_id)
    if invoice.supplier_org_id != actor.org_id:
        raise Forbidden("Only the seller attaches the fapiao file.", code="invoice_wrong_party")
    if not content or len(content) > MAX_FAPIAO_BYTES:
        raise Invalid(f"The file must be between 1 byte and {MAX_FAPIAO_BYTES} bytes.", code="fapiao_file_size")
    media_type = _media_type(filename, content)
    sha256 = hashlib.sha256(content).hexdigest()
    await asyncio.to_thread(_store, store_in / sha256, content)
    invoice.fapiao_file = {"filename": filename[:200], "media_type": media_type, "size": len(content),
                           "sha256": sha256}
    await session.flush()
    await record_evidence(session, org_id=actor.org_id, kind="invoice.fapiao_attached",
                          subject=f"invoice:{invoice.id}", payload_digest=sha256)
    await record_audit(session, actor=actor, action="invoice.fapiao_attached", object_type="invoice",
                       object_id=invoice.id, details=invoice.fapiao_file)
    return invoice


def _store(target: Path, content: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
