"""The journal entries of each settlement operation (see docs/settlement.md for the table of postings).

References tie entries to their documents so that amounts can be read back by prefix: everything about an
invoice is under ``invoice:<id>`` (its issue, notes against it, payments of it), deposits into and
refunds from an order's escrow under ``escrow:<order id>``; an escrow release pays one of the order's invoices
and is filed under that invoice, the order named in the entry's memo.
"""

import uuid
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement import journal, payee
from commerce.settlement.invoice_models import Invoice
from commerce.settlement.journal import AccountKind as A
from commerce.settlement.journal import Line
from commerce.settlement.models import JournalEntry, JournalPosting
from commerce.settlement.rules import InvoiceKind


def _invoice_lines(invoice: Invoice) -> list[Line]:
    """Supplier: receivable = revenue + output VAT; buyer: purchases + input VAT = payable (zero lines left out)."""
    s, b = invoice.supplier_org_id, invoice.buyer_org_id
    lines = [Line.dr(s, A.RECEIVABLE, invoice.gross_total), Line.cr(s, A.REVENUE, invoice.net_total),
             Line.cr(s, A.VAT_OUTPUT, invoice.tax_total), Line.dr(b, A.PURCHASES, invoice.net_total),
             Line.dr(b, A.VAT_INPUT, invoice.tax_total), Line.cr(b, A.PAYABLE, invoice.gross_total)]
    return [line for line in lines if line.debit or line.credit]


def _reversed(lines: list[Line]) -> list[Line]:
    return [Line(line.org_id, line.account, debit=line.credit, credit=line.debit) for line in lines]


def invoice_prefix(invoice_id: uuid.UUID) -> str:
    return f"invoice:{invoice_id}"


def escrow_prefix(order_id: uuid.UUID) -> str:
    return f"escrow:{order_id}"


async def post_invoice(session: AsyncSession, invoice: Invoice) -> None:
    """An invoice or debit note adds to what the buyer owes; a credit note takes from it."""
    lines = _invoice_lines(invoice)
    target = invoice.corrects_invoice_id or invoice.id
    reference = invoice_prefix(target) if invoice.kind == InvoiceKind.INVOICE else \
        f"{invoice_prefix(target)}:{invoice.kind}:{invoice.id}"
    await journal.post_entry(
        session, currency=invoice.currency, reference=reference, kind=f"{invoice.kind}.issued",
        lines=_reversed(lines) if invoice.kind == InvoiceKind.CREDIT_NOTE else lines)


async def reverse_invoice(session: AsyncSession, invoice: Invoice) -> None:
    """A rejected invoice is taken out of the books by the mirror of its issue entry."""
    await journal.post_entry(session, currency=invoice.currency, kind="invoice.rejected",
                             reference=f"{invoice_prefix(invoice.id)}:rejected",
                             lines=_reversed(_invoice_lines(invoice)))


def _transfer(payer: uuid.UUID, payer_from: A, payee: uuid.UUID, payee_to: A, amount: Decimal) -> list[Line]:
    """Money from the payer's ``payer_from`` account settles the payer's debt (payable) and the payee's claim
    (receivable) and lands on the payee's ``payee_to`` account."""
    return [Line.dr(payer, A.PAYABLE, amount), Line.cr(payer, payer_from, amount),
            Line.dr(payee, payee_to, amount), Line.cr(payee, A.RECEIVABLE, amount)]


async def payment_lines(session: AsyncSession, invoice: Invoice, *, payer_from: A, amount: Decimal) -> list[Line]:
    """The buyer pays ``amount`` of the invoice from its ``payer_from`` account to the payee's bank: the supplier,
    or the financier its receivable was assigned to (``payee.payee_of`` decides, for every payment method)."""
    paid_to = await payee.payee_of(session, invoice_id=invoice.id, supplier_org_id=invoice.supplier_org_id)
    return _transfer(invoice.buyer_org_id, payer_from, paid_to, A.BANK, amount)


async def post_payment(session: AsyncSession, invoice: Invoice, *, payment_id: uuid.UUID, amount: Decimal) -> uuid.UUID:
    """A bank transfer (or provider payment) of ``amount`` for the invoice, from the buyer's bank to the payee's."""
    return await journal.post_entry(
        session, currency=invoice.currency, kind="invoice.payment",
        reference=f"{invoice_prefix(invoice.id)}:payment:{payment_id}",
        lines=await payment_lines(session, invoice, payer_from=A.BANK, amount=amount))


class EscrowStep(StrEnum):
    DEPOSIT = "deposit"  # the buyer's bank → escrow, still the buyer's money
    RELEASE = "release"  # escrow pays an invoice of the order: settles the buyer's payable and the payee's claim
    REFUND = "refund"  # what is still held goes back to the buyer's bank


async def post_escrow(session: AsyncSession, *, step: EscrowStep, order_id: uuid.UUID, buyer_org_id: uuid.UUID,
                      currency: str, payment_id: uuid.UUID, amount: Decimal) -> uuid.UUID:
    """A deposit or refund of an order's escrow, under ``escrow:<order>:<step>:<payment>`` (the buyer's own
    books: bank ↔ escrow)."""
    if step is EscrowStep.RELEASE:
        raise ValueError("a release pays an invoice: use post_escrow_release")
    lines = [Line.dr(buyer_org_id, A.ESCROW, amount), Line.cr(buyer_org_id, A.BANK, amount)]
    return await journal.post_entry(
        session, currency=currency, kind=f"escrow.{step.value}",
        reference=f"{escrow_prefix(order_id)}:{step.value}:{payment_id}",
        lines=lines if step is EscrowStep.DEPOSIT else _reversed(lines))


async def post_escrow_release(session: AsyncSession, invoice: Invoice, *, order_id: uuid.UUID,
                              payment_id: uuid.UUID, amount: Decimal) -> uuid.UUID:
    """Escrow of the order pays ``amount`` of one of its invoices. Filed under the invoice
    (``invoice:<id>:escrow-release:<payment>``, the order named in the memo), so the invoice's outstanding amount
    and the reconciliation statements include it, like any other payment of the invoice."""
    return await journal.post_entry(
        session, currency=invoice.currency, kind="escrow.release", memo=escrow_prefix(order_id),
        reference=f"{invoice_prefix(invoice.id)}:escrow-release:{payment_id}",
        lines=await payment_lines(session, invoice, payer_from=A.ESCROW, amount=amount))


async def escrow_held(session: AsyncSession, *, order_id: uuid.UUID, buyer_org_id: uuid.UUID,
                      currency: str) -> Decimal:
    """The buyer's money for this order still in escrow (read as the buyer): its escrow postings of the order —
    deposits and refunds under ``escrow:<order>``, releases under the invoice they paid with the order as memo."""
    prefix = escrow_prefix(order_id)
    held = await session.scalar(
        select(func.coalesce(func.sum(JournalPosting.debit - JournalPosting.credit), 0))
        .join(JournalEntry, JournalEntry.id == JournalPosting.entry_id)
        .where(JournalPosting.account_id == journal.account_id(buyer_org_id, A.ESCROW, currency),
               or_(JournalEntry.reference.startswith(f"{prefix}:"), JournalEntry.memo == prefix)))
    return Decimal(held or 0)


async def outstanding(session: AsyncSession, invoice: Invoice, *, viewer_org_id: uuid.UUID) -> Decimal:
    """What is still owed on the invoice (notes and payments included); negative when overpaid. Read from the
    viewer's own books: the supplier's receivable, or the buyer's payable."""
    if viewer_org_id == invoice.supplier_org_id:
        return await journal.balance(session, org_id=viewer_org_id, account=A.RECEIVABLE, currency=invoice.currency,
                                     reference_prefix=invoice_prefix(invoice.id))
    return -await journal.balance(session, org_id=viewer_org_id, account=A.PAYABLE, currency=invoice.currency,
                                  reference_prefix=invoice_prefix(invoice.id))
