"""Money in: bank transfers matched from imported statements, and escrow (担保交易) held, released on goods
receipt and refunded on cancellation. Every movement is a journal entry, a payment row, an outbox event and
an evidence entry, written in the caller's transaction.
"""

import re
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.receipts import received_quantities
from commerce.orders.models import PurchaseOrder
from commerce.orders.service.queries import order_detail
from commerce.settlement import advances, payee, postings
from commerce.settlement.invoice_models import BankStatementLine, Invoice, InvoiceLine, Payment
from commerce.settlement.invoices import load_invoice
from commerce.settlement.milestone_models import PaymentRequest
from commerce.settlement.postings import EscrowStep
from commerce.settlement.rules import CENTS, InvoiceKind, InvoiceStatus
from commerce.settlement.statements import StatementCredit, parse_camt053, parse_csv
from ledger.service import record_evidence
from tradeloom.audit import Actor, record_audit
from tradeloom.errors import Forbidden, Invalid, NotFound
from tradeloom.outbox.service import emit

PAYMENT_REFERENCE = re.compile(r"TL[A-HJ-NP-Z2-9]{10}")
PAYS_INVOICE = ("payment", "escrow_release")  # payment kinds that pay the payee of an invoice
ESCROW_STATES = ("confirmed", "in_production", "partially_shipped", "shipped", "received")


@dataclass(frozen=True)
class ImportResult:
    matched: int
    unmatched: int
    duplicates: int


async def _record(session: AsyncSession, actor: Actor, payment: Payment, topic: str) -> Payment:
    """Store the payment and announce it: outbox event, audit, evidence (journal entry already posted)."""
    session.add(payment)
    await session.flush()
    facts = {"payment_id": str(payment.id), "kind": payment.kind, "method": payment.method,
             "invoice_id": str(payment.invoice_id) if payment.invoice_id else None,
             "order_id": str(payment.order_id) if payment.order_id else None,
             "amount": f"{payment.amount:f}", "currency": payment.currency, "reference": payment.reference}
    await emit(session, org_id=actor.org_id, topic=topic, payload=facts)
    await record_audit(session, actor=actor, action=topic, object_type="payment", object_id=payment.id)
    await record_evidence(session, org_id=actor.org_id, kind=topic, subject=f"payment:{payment.id}", payload=facts)
    if payment.invoice_id is not None and payment.kind in PAYS_INVOICE:
        await payee.count_payment(session, by_org_id=actor.org_id, invoice_id=payment.invoice_id,
                                  amount=payment.amount, via=payment.method)
    return payment


async def record_invoice_payment(
    session: AsyncSession, *, actor: Actor, invoice: Invoice, amount: Decimal, method: str, reference: str,
) -> Payment:
    """Money received for an invoice: partial payments leave the rest outstanding, an overpayment leaves a
    credit balance (negative outstanding) to be refunded or set off."""
    if invoice.kind != InvoiceKind.INVOICE or invoice.status == InvoiceStatus.REJECTED:
        raise Invalid("Only an invoice that stands can be paid.", code="invoice_not_payable")
    payment_id = uuid.uuid4()
    entry = await postings.post_payment(session, invoice, payment_id=payment_id, amount=amount)
    return await _record(session, actor, Payment(
        id=payment_id, invoice_id=invoice.id, buyer_org_id=invoice.buyer_org_id,
        supplier_org_id=invoice.supplier_org_id, method=method, kind="payment", amount=amount,
        currency=invoice.currency, reference=reference, journal_entry_id=entry), "payment.received")


async def record_request_payment(session: AsyncSession, *, actor: Actor, request: PaymentRequest, amount: Decimal,
                                 method: str, reference: str) -> Payment:
    """Money received for a milestone's payment request (on account until the order is invoiced; then set off
    against its invoices): the request is ``paid`` once the money covers it."""
    payment_id = uuid.uuid4()
    entry = await advances.post_advance(session, request, payment_id=payment_id, amount=amount)
    payment = await _record(session, actor, Payment(
        id=payment_id, order_id=request.order_id, buyer_org_id=request.buyer_org_id,
        supplier_org_id=request.supplier_org_id, method=method, kind="milestone", amount=amount,
        currency=request.currency, reference=reference, journal_entry_id=entry), "payment.received")
    await advances.count_request_payment(session, request_id=request.id, amount=amount, viewer_org_id=actor.org_id)
    return payment


async def _request_for(session: AsyncSession, actor: Actor, credit: StatementCredit) -> PaymentRequest | None:
    """The caller's (as supplier) payment request whose reference the remittance quotes, in that currency."""
    quoted = PAYMENT_REFERENCE.search(credit.remittance.upper())
    if quoted is None:
        return None
    return await session.scalar(select(PaymentRequest).where(
        PaymentRequest.payment_reference == quoted.group(), PaymentRequest.supplier_org_id == actor.org_id,
        PaymentRequest.currency == credit.currency))


def parse_statement(filename: str, content: bytes) -> list[StatementCredit]:
    """camt.053 when the file is XML, our CSV otherwise."""
    if filename.lower().endswith(".xml") or content.lstrip()[:1] == b"<":
        return parse_camt053(content)
    return parse_csv(content)


def _standing_invoices(supplier_org_id: uuid.UUID) -> Select[Invoice]:
    """The supplier's invoices a statement line may pay (not credit/debit notes, not rejected)."""
    return select(Invoice).where(Invoice.supplier_org_id == supplier_org_id, Invoice.kind == InvoiceKind.INVOICE.value,
                                 Invoice.status != InvoiceStatus.REJECTED.value)


async def matchable_invoices(session: AsyncSession, *, supplier_org_id: uuid.UUID) -> list[Invoice]:
    """The invoices a queued line can be matched to by hand, newest first (the page's choice)."""
    found = await session.scalars(_standing_invoices(supplier_org_id)
                                  .order_by(Invoice.issue_date.desc(), Invoice.created_at.desc()).limit(200))
    return list(found.all())


async def _invoice_for(session: AsyncSession, actor: Actor, credit: StatementCredit) -> Invoice | None:
    """By the payment reference quoted in the remittance, else by amount when exactly one open invoice of the
    caller (as supplier) in that currency has that much outstanding."""
    open_invoices = _standing_invoices(actor.org_id).where(Invoice.currency == credit.currency)
    quoted = PAYMENT_REFERENCE.search(credit.remittance.upper())
    if quoted:
        return await session.scalar(open_invoices.where(Invoice.payment_reference == quoted.group()))
    same_amount = [invoice for invoice in (await session.scalars(open_invoices.where(
        Invoice.gross_total >= credit.amount))).all()
        if await postings.outstanding(session, invoice, viewer_org_id=actor.org_id) == credit.amount]
    return same_amount[0] if len(same_amount) == 1 else None


async def import_statement(session: AsyncSession, *, actor: Actor, filename: str, content: bytes) -> ImportResult:
    """The supplier's bank statement: each new credit line is matched to an invoice (and booked as its payment)
    or queued as unmatched; lines already imported (same bank reference) are skipped, so re-importing is safe."""
    credits = parse_statement(filename, content)
    matched = unmatched = duplicates = 0
    for credit in credits:
        line_id = await session.scalar(
            pg_insert(BankStatementLine).values(
                id=uuid.uuid4(), org_id=actor.org_id, bank_ref=credit.bank_ref, booking_date=credit.booking_date,
                amount=credit.amount, currency=credit.currency, remittance=credit.remittance,
                payer_name=credit.payer_name, status="unmatched")
            .on_conflict_do_nothing().returning(BankStatementLine.id))
        if line_id is None:
            duplicates += 1
            continue
        request = await _request_for(session, actor, credit)
        if request is not None:
            await _settle_request_line(session, actor, line_id, request)
            matched += 1
            continue
        invoice = await _invoice_for(session, actor, credit)
        if invoice is None:
            unmatched += 1
            continue
        await _settle_line(session, actor, line_id, invoice)
        matched += 1
    return ImportResult(matched, unmatched, duplicates)


async def _settle_line(session: AsyncSession, actor: Actor, line_id: uuid.UUID, invoice: Invoice) -> None:
    line = await session.get_one(BankStatementLine, line_id)
    await record_invoice_payment(session, actor=actor, invoice=invoice, amount=line.amount, method="bank_transfer",
                                 reference=f"bank:{line.bank_ref}")
    line.status, line.invoice_id = "matched", invoice.id
    await session.flush()


async def _settle_request_line(session: AsyncSession, actor: Actor, line_id: uuid.UUID,
                               request: PaymentRequest) -> None:
    line = await session.get_one(BankStatementLine, line_id)
    await record_request_payment(session, actor=actor, request=request, amount=line.amount, method="bank_transfer",
                                 reference=f"bank:{line.bank_ref}")
    line.status, line.note = "matched", f"{request.order_number} {request.milestone} {request.payment_reference}"
    await session.flush()


async def unmatched_lines(session: AsyncSession) -> list[BankStatementLine]:
    """The caller's statement lines that no invoice claimed yet, oldest first (the reconciliation queue)."""
    found = await session.scalars(select(BankStatementLine).where(BankStatementLine.status == "unmatched")
                                  .order_by(BankStatementLine.booking_date, BankStatementLine.created_at))
    return list(found.all())


async def match_line(session: AsyncSession, *, actor: Actor, line_id: uuid.UUID, invoice_id: uuid.UUID) -> None:
    """Match a queued statement line to one of the caller's invoices by hand."""
    line = await session.scalar(select(BankStatementLine).where(BankStatementLine.id == line_id))
    if line is None:
        raise NotFound("No such statement line.", code="statement_line_not_found")
    if line.status != "unmatched":
        raise Invalid("This statement line is already matched.", code="statement_line_matched")
    invoice = await load_invoice(session, invoice_id)
    if invoice.supplier_org_id != actor.org_id or invoice.currency != line.currency:
        raise Invalid("Match a line to one of your invoices in the same currency.", code="statement_line_mismatch")
    await _settle_line(session, actor, line_id, invoice)


async def orders_of_invoice(session: AsyncSession, invoice_id: uuid.UUID) -> list[uuid.UUID]:
    """The orders an invoice bills lines of."""
    found = await session.scalars(select(InvoiceLine.order_id).where(InvoiceLine.invoice_id == invoice_id).distinct())
    return list(found.all())


async def payments_for(session: AsyncSession, *, limit: int = 200) -> list[Payment]:
    """Payments the caller's organization made or received, newest first."""
    found = await session.scalars(select(Payment).order_by(Payment.created_at.desc()).limit(limit))
    return list(found.all())


# Escrow -----------------------------------------------------------------------------------------------------

async def _escrow_totals(session: AsyncSession, order_id: uuid.UUID) -> dict[str, Decimal]:
    rows = await session.execute(select(Payment.kind, func.sum(Payment.amount))
                                 .where(Payment.order_id == order_id, Payment.method == "escrow")
                                 .group_by(Payment.kind))
    return {kind: total for kind, total in rows.all()}


async def escrow_in_use(session: AsyncSession, *, order_id: uuid.UUID) -> bool:
    """Whether the buyer paid anything into escrow for this order."""
    return bool(await _escrow_totals(session, order_id))


def _held(totals: dict[str, Decimal]) -> Decimal:
    """Deposited minus released minus refunded."""
    return totals.get("escrow_deposit", Decimal(0)) - totals.get("escrow_release", Decimal(0)) \
        - totals.get("escrow_refund", Decimal(0))


async def _escrow_move(session: AsyncSession, actor: Actor, order: PurchaseOrder, step: EscrowStep,
                       amount: Decimal, topic: str, invoice: Invoice | None = None) -> Payment:
    """Post one escrow step for the order (a release: of one of its invoices) and record it as a payment
    (kind ``escrow_<step>``)."""
    payment_id = uuid.uuid4()
    if invoice is None:
        entry = await postings.post_escrow(session, step=step, order_id=order.id, buyer_org_id=order.buyer_org_id,
                                           currency=order.currency, payment_id=payment_id, amount=amount)
    else:
        entry = await postings.post_escrow_release(session, invoice, order_id=order.id, payment_id=payment_id,
                                                   amount=amount)
    kind = f"escrow_{step.value}"
    return await _record(session, actor, Payment(
        id=payment_id, order_id=order.id, invoice_id=invoice.id if invoice else None,
        buyer_org_id=order.buyer_org_id, supplier_org_id=order.supplier_org_id, method="escrow", kind=kind,
        amount=amount, currency=order.currency, reference=f"{postings.escrow_prefix(order.id)}:{step.value}",
        journal_entry_id=entry), topic)


async def deposit_escrow(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, amount: Decimal) -> Payment:
    """The buyer pays into the platform's escrow for an order, up to the order's gross total."""
    order = (await order_detail(session, order_id=order_id)).order
    if order.buyer_org_id != actor.org_id:
        raise Forbidden("Only the buyer pays into escrow for its order.", code="escrow_wrong_party")
    if order.status not in ESCROW_STATES:
        raise Invalid("Escrow takes payments for confirmed, open orders.", code="escrow_not_open")
    deposited = (await _escrow_totals(session, order_id)).get("escrow_deposit", Decimal(0))
    if amount <= 0 or amount != amount.quantize(CENTS) or deposited + amount > order.gross_total:
        raise Invalid(f"Pay a positive amount in cents, at most {order.gross_total - deposited:f} more.",
                      code="escrow_amount_invalid")
    return await _escrow_move(session, actor, order, EscrowStep.DEPOSIT, amount, "escrow.deposited")


async def _received_value(session: AsyncSession, order_id: uuid.UUID) -> tuple[PurchaseOrder, Decimal]:
    """The order, and the gross value of what the buyer has accepted into stock so far."""
    detail = await order_detail(session, order_id=order_id)
    received = await received_quantities(session, order_line_ids=[line.id for line in detail.lines])
    value = sum((min(received[line.id], line.quantity) * line.gross / line.quantity for line in detail.lines),
                Decimal(0))
    return detail.order, value.quantize(CENTS, rounding=ROUND_HALF_UP)


async def _open_invoices_of(session: AsyncSession, actor: Actor, order_id: uuid.UUID) -> list[tuple[Invoice, Decimal]]:
    """The order's approved invoices (matched, or their exceptions accepted) with something outstanding, and
    how much, oldest first (fapiao issue date, then creation): the order in which escrow pays them."""
    invoiced = select(InvoiceLine.invoice_id).where(InvoiceLine.order_id == order_id)
    found = await session.scalars(select(Invoice).where(
        Invoice.id.in_(invoiced), Invoice.kind == InvoiceKind.INVOICE.value,
        Invoice.status == InvoiceStatus.APPROVED.value).order_by(Invoice.issue_date, Invoice.created_at))
    owed = [(invoice, await postings.outstanding(session, invoice, viewer_org_id=actor.org_id))
            for invoice in found.all()]
    return [(invoice, amount) for invoice, amount in owed if amount > 0]


async def release_escrow(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID) -> list[Payment]:
    """Release to the supplier what the received goods are worth, less what was released before (partial
    receipt ⇒ partial release), but never more than the order's invoices have outstanding: escrow pays
    invoices, oldest first, each release filed under the invoice it pays. What the goods are worth beyond what
    is invoiced and approved stays held until an invoice is (``invoice.issued`` / ``invoice.approved`` run this
again). Returns the
    payments made, one per invoice (none: nothing to release). Safe to call again at any time."""
    order, value = await _received_value(session, order_id)
    if actor.org_id not in (order.buyer_org_id, order.supplier_org_id):
        raise NotFound("No such order.", code="order_not_found")
    totals = await _escrow_totals(session, order_id)
    remaining = min(_held(totals), value - totals.get("escrow_release", Decimal(0)))
    released: list[Payment] = []
    for invoice, owed in await _open_invoices_of(session, actor, order_id):
        if remaining <= 0:
            break
        amount = min(remaining, owed)
        released.append(await _escrow_move(session, actor, order, EscrowStep.RELEASE, amount, "escrow.released",
                                           invoice))
        remaining -= amount
    return released


async def refund_escrow(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID) -> Payment | None:
    """A cancelled order's escrow goes back to the buyer (whatever is still held)."""
    order = (await order_detail(session, order_id=order_id)).order
    if order.status != "cancelled":
        raise Invalid("Escrow is refunded when the order is cancelled.", code="escrow_not_refundable")
    totals = await _escrow_totals(session, order_id)
    held = _held(totals)
    if held <= 0:
        return None
    return await _escrow_move(session, actor, order, EscrowStep.REFUND, held, "escrow.refunded")
