"""The journal entries of each settlement operation (see docs/settlement.md for the table of postings).

References tie entries to their documents so that amounts can be read back by prefix: everything about an
invoice is under ``invoice:<id>`` (its issue, notes against it, payments of it), everything about an order's
escrow under ``escrow:<order id>``.
"""

import uuid
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement import journal
from commerce.settlement.invoice_models import Invoice
from commerce.settlement.journal import AccountKind as A
from commerce.settlement.journal import Line
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


async def post_payment(session: AsyncSession, invoice: Invoice, *, payment_id: uuid.UUID, amount: Decimal) -> uuid.UUID:
    """A bank transfer (or provider payment) of ``amount`` for the invoice, from the buyer's bank to the supplier's."""
    return await journal.post_entry(
        session, currency=invoice.currency, kind="invoice.payment",
        reference=f"{invoice_prefix(invoice.id)}:payment:{payment_id}",
        lines=_transfer(invoice.buyer_org_id, A.BANK, invoice.supplier_org_id, A.BANK, amount))


def escrow_prefix(order_id: uuid.UUID) -> str:
    return f"escrow:{order_id}"


async def post_escrow_deposit(session: AsyncSession, *, order_id: uuid.UUID, buyer_org_id: uuid.UUID,
                              currency: str, payment_id: uuid.UUID, amount: Decimal) -> uuid.UUID:
    """The buyer's money moves from its bank into the platform's escrow, still the buyer's until released."""
    return await journal.post_entry(
        session, currency=currency, kind="escrow.deposit", reference=f"{escrow_prefix(order_id)}:deposit:{payment_id}",
        lines=[Line.dr(buyer_org_id, A.ESCROW, amount), Line.cr(buyer_org_id, A.BANK, amount)])


async def post_escrow_release(session: AsyncSession, *, order_id: uuid.UUID, buyer_org_id: uuid.UUID,
                              supplier_org_id: uuid.UUID, currency: str, payment_id: uuid.UUID,
                              amount: Decimal) -> uuid.UUID:
    """Released escrow pays the supplier: it settles the buyer's payable and the supplier's receivable."""
    return await journal.post_entry(
        session, currency=currency, kind="escrow.release", reference=f"{escrow_prefix(order_id)}:release:{payment_id}",
        lines=_transfer(buyer_org_id, A.ESCROW, supplier_org_id, A.BANK, amount))


async def post_escrow_refund(session: AsyncSession, *, order_id: uuid.UUID, buyer_org_id: uuid.UUID,
                             currency: str, payment_id: uuid.UUID, amount: Decimal) -> uuid.UUID:
    """What is still held goes back to the buyer's bank."""
    return await journal.post_entry(
        session, currency=currency, kind="escrow.refund", reference=f"{escrow_prefix(order_id)}:refund:{payment_id}",
        lines=[Line.dr(buyer_org_id, A.BANK, amount), Line.cr(buyer_org_id, A.ESCROW, amount)])


async def escrow_held(session: AsyncSession, *, order_id: uuid.UUID, buyer_org_id: uuid.UUID,
                      currency: str) -> Decimal:
    """The buyer's money for this order still in escrow (read as the buyer)."""
    return await journal.balance(session, org_id=buyer_org_id, account=A.ESCROW, currency=currency,
                                 reference_prefix=escrow_prefix(order_id))


async def outstanding(session: AsyncSession, invoice: Invoice, *, viewer_org_id: uuid.UUID) -> Decimal:
    """What is still owed on the invoice (notes and payments included); negative when overpaid. Read from the
    viewer's own books: the supplier's receivable, or the buyer's payable."""
    if viewer_org_id == invoice.supplier_org_id:
        return await journal.balance(session, org_id=viewer_org_id, account=A.RECEIVABLE, currency=invoice.currency,
                                     reference_prefix=invoice_prefix(invoice.id))
    return -await journal.balance(session, org_id=viewer_org_id, account=A.PAYABLE, currency=invoice.currency,
                                  reference_prefix=invoice_prefix(invoice.id))
