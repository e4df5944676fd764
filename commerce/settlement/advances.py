"""Milestone payments (advances) in the journal: booked when paid, set off against the order's invoices.

A payment of a milestone request is money on account: the buyer's ``advances`` (prepaid, 预付) grow against its
bank, the supplier's ``advances`` (received in advance, 预收) against the money in its bank. Once the order is
invoiced the advance is applied to the invoice, oldest invoice first, each up to what it has outstanding: the
buyer's payable and the supplier's receivable on the invoice fall by it, so the invoice's outstanding amount,
the overdue check and the statements count the prepayment as a payment of the invoice. An invoice whose
receivable was assigned to a financier takes no advance (the supplier's advance is not the financier's money);
it stays on account.
"""

import uuid
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement import journal, payee, postings
from commerce.settlement.invoice_models import Invoice, InvoiceLine
from commerce.settlement.journal import AccountKind as A
from commerce.settlement.journal import Line
from commerce.settlement.milestone_models import PaymentRequest
from commerce.settlement.rules import InvoiceKind, InvoiceStatus
from tradeloom.errors import NotFound


def request_prefix(request: PaymentRequest) -> str:
    return f"order:{request.order_id}:milestone:{request.milestone}"


def advance_lines(request: PaymentRequest, amount: Decimal) -> list[Line]:
    """The buyer's bank pays ``amount`` on account of the request: buyer Dr advances / Cr bank, supplier
    Dr bank / Cr advances (mirror them for a refund)."""
    buyer, supplier = request.buyer_org_id, request.supplier_org_id
    return [Line.dr(buyer, A.ADVANCES, amount), Line.cr(buyer, A.BANK, amount),
            Line.dr(supplier, A.BANK, amount), Line.cr(supplier, A.ADVANCES, amount)]


async def post_advance(session: AsyncSession, request: PaymentRequest, *, payment_id: uuid.UUID,
                       amount: Decimal) -> uuid.UUID:
    """A bank transfer of ``amount`` for the request, filed under ``order:<id>:milestone:<m>:payment:<id>``."""
    return await journal.post_entry(
        session, currency=request.currency, kind="milestone.payment",
        reference=f"{request_prefix(request)}:payment:{payment_id}", memo=request.payment_reference,
        lines=advance_lines(request, amount))


async def count_request_payment(session: AsyncSession, *, request_id: uuid.UUID, amount: Decimal,
                                viewer_org_id: uuid.UUID) -> PaymentRequest:
    """Money booked for the request (negative: refunded): ``paid`` once it covers the amount, and what the order
    has invoiced takes it at once."""
    request = await session.scalar(select(PaymentRequest).where(PaymentRequest.id == request_id).with_for_update())
    if request is None:
        raise NotFound("No such payment request.", code="payment_request_not_found")
    request.paid_amount += amount
    request.status = "paid" if request.paid_amount >= request.amount else "open"
    await session.flush()
    await apply_advances(session, order_id=request.order_id, viewer_org_id=viewer_org_id)
    return request


async def _open_invoices(session: AsyncSession, order_id: uuid.UUID, viewer_org_id: uuid.UUID,
                         ) -> list[tuple[Invoice, Decimal]]:
    """The order's standing invoices not assigned to a financier, with what each has outstanding, oldest first."""
    billed = select(InvoiceLine.invoice_id).where(InvoiceLine.order_id == order_id)
    found = await session.scalars(select(Invoice).where(
        Invoice.id.in_(billed), Invoice.kind == InvoiceKind.INVOICE.value,
        Invoice.status != InvoiceStatus.REJECTED.value).order_by(Invoice.issue_date, Invoice.created_at))
    owed = [(invoice, await postings.outstanding(session, invoice, viewer_org_id=viewer_org_id))
            for invoice in found.all() if await payee.assignee_of(session, invoice.id) is None]
    return [(invoice, amount) for invoice, amount in owed if amount > 0]


async def apply_advances(session: AsyncSession, *, order_id: uuid.UUID, viewer_org_id: uuid.UUID) -> Decimal:
    """Set the order's paid, unapplied milestone money off against its invoices (idempotent: only what is not
    applied yet moves). Returns the amount applied now."""
    requests = list(await session.scalars(select(PaymentRequest).where(PaymentRequest.order_id == order_id)
                                          .order_by(PaymentRequest.created_at).with_for_update()))
    invoices = await _open_invoices(session, order_id, viewer_org_id)
    applied = Decimal(0)
    for request in requests:
        for index, (invoice, owed) in enumerate(invoices):
            amount = min(request.paid_amount - request.applied_amount, owed)
            if amount <= 0:
                continue
            await _post_application(session, request, invoice, amount)
            request.applied_amount += amount
            invoices[index] = (invoice, owed - amount)
            applied += amount
    await session.flush()
    return applied


async def _post_application(session: AsyncSession, request: PaymentRequest, invoice: Invoice,
                            amount: Decimal) -> None:
    buyer, supplier = request.buyer_org_id, request.supplier_org_id
    await journal.post_entry(
        session, currency=request.currency, kind="milestone.applied",
        reference=f"{postings.invoice_prefix(invoice.id)}:advance:{request.id}:{request.applied_amount:f}",
        memo=request.payment_reference,
        lines=[Line.dr(buyer, A.PAYABLE, amount), Line.cr(buyer, A.ADVANCES, amount),
               Line.dr(supplier, A.ADVANCES, amount), Line.cr(supplier, A.RECEIVABLE, amount)])
