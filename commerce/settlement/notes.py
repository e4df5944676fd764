"""Credit notes (红字发票) and debit notes against an issued invoice.

A note line adjusts one line of the invoice either in quantity (goods not delivered or returned: the quantity
invoiced for the order line goes down for a credit note) or in price (only the amount changes). Notes are
posted under the invoice's reference, so the invoice's outstanding amount includes them. A credit note
answers the buyer's "request credit note" resolutions: those lines then count as accepted.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement.invoice_models import Invoice, InvoiceLine
from commerce.settlement.invoices import (
    FapiaoDraft,
    invoice_lines,
    load_invoice,
    record_document,
    settle_credit_requests,
)
from commerce.settlement.rules import InvoiceKind, InvoiceStatus, LineAmounts, LineMatch, invoice_totals, line_amounts
from commerce.settlement.tax_rates import service as tax_rates
from tradeloom.audit import Actor
from tradeloom.errors import Forbidden, Invalid


class Adjusts(StrEnum):
    QUANTITY = "quantity"
    PRICE = "price"


@dataclass(frozen=True)
class NoteLineDraft:
    invoice_line_no: int
    adjusts: Adjusts
    quantity: Decimal
    unit_price: Decimal  # for a price adjustment: the difference per unit


def _note_line(index: int, draft: NoteLineDraft, original: InvoiceLine, rate: Decimal) -> dict[str, object]:
    if draft.quantity <= 0 or draft.unit_price <= 0:
        raise Invalid("Note quantities and prices are positive.", code="note_lines_invalid")
    if draft.adjusts is Adjusts.QUANTITY and draft.quantity > original.quantity:
        raise Invalid(f"Line {original.line_no} was invoiced for {original.quantity.normalize():f} only.",
                      code="note_lines_invalid")
    amounts = line_amounts(draft.quantity, draft.unit_price, rate)
    return {"line_no": index + 1, "order_id": original.order_id, "order_line_id": original.order_line_id,
            "material_code": original.material_code, "quantity": draft.quantity, "unit": original.unit,
            "unit_price": draft.unit_price, "tax_rate": original.tax_rate, "net": amounts.net, "tax": amounts.tax,
            "gross": amounts.gross, "match_status": LineMatch.MATCHED.value, "match_reasons": [],
            "adjusts": draft.adjusts.value}


async def issue_note(
    session: AsyncSession, *, actor: Actor, invoice_id: uuid.UUID, kind: InvoiceKind, fapiao: FapiaoDraft,
    lines: Sequence[NoteLineDraft],
) -> Invoice:
    """The supplier issues a credit or debit note against one of its invoices (not a rejected one)."""
    if kind is InvoiceKind.INVOICE or not lines:
        raise Invalid("A note is a credit note or a debit note with at least one line.", code="note_lines_invalid")
    invoice = await load_invoice(session, invoice_id)
    if invoice.supplier_org_id != actor.org_id:
        raise Forbidden("Only the supplier issues notes against its invoice.", code="invoice_wrong_party")
    if invoice.kind != InvoiceKind.INVOICE or invoice.status == InvoiceStatus.REJECTED:
        raise Invalid("Notes correct an invoice that stands.", code="note_target_invalid")
    originals = {line.line_no: line for line in await invoice_lines(session, invoice_id)}
    missing = [draft.invoice_line_no for draft in lines if draft.invoice_line_no not in originals]
    if missing:
        raise Invalid(f"The invoice has no line {missing[0]}.", code="note_lines_invalid")
    rates = {code: await tax_rates.fraction_on(session, code=code, on=invoice.issue_date)  # the invoice's rates
             for code in {line.tax_rate for line in originals.values()}}
    rows = [_note_line(i, draft, originals[draft.invoice_line_no], rates[originals[draft.invoice_line_no].tax_rate])
            for i, draft in enumerate(lines)]
    totals = invoice_totals([LineAmounts(row["net"], row["tax"], row["gross"]) for row in rows])  # type: ignore[arg-type]
    note = Invoice(
        kind=kind.value, corrects_invoice_id=invoice.id, buyer_org_id=invoice.buyer_org_id,
        supplier_org_id=invoice.supplier_org_id, currency=invoice.currency, status=InvoiceStatus.APPROVED.value,
        fapiao_type=fapiao.fapiao_type.value, fapiao_number=fapiao.number, issue_date=fapiao.issue_date,
        seller_name=invoice.seller_name, seller_uscc=invoice.seller_uscc, buyer_name=invoice.buyer_name,
        buyer_uscc=invoice.buyer_uscc, net_total=totals.net, tax_total=totals.tax, gross_total=totals.gross,
        due_date=invoice.due_date, payment_reference=f"{invoice.payment_reference}-{kind.value[0].upper()}"
                                                     f"{uuid.uuid4().hex[:6].upper()}")
    await record_document(session, actor, note, rows)
    if kind is InvoiceKind.CREDIT_NOTE:
        await settle_credit_requests(session, actor=actor, invoice=invoice)
    return note
