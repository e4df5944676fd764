"""Supply-chain finance operations: request early payment, offer a discount, accept (assign or pay early),
settle at maturity; and the supplier's credit-evaluation inputs for analytics."""

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement import journal
from commerce.settlement import postings as invoice_postings
from commerce.settlement.finance import postings
from commerce.settlement.finance.models import FinanceOffer, FinanceRequest, ReceivableAssignment
from commerce.settlement.invoice_models import Invoice
from commerce.settlement.invoices import load_invoice
from commerce.settlement.journal import AccountKind
from commerce.settlement.rules import InvoiceKind, InvoiceStatus
from commerce.supplier_performance.service import ratings_for
from ledger.service import record_evidence
from tradeloom.audit import Actor, record_audit
from tradeloom.db import flush_or_conflict, utcnow
from tradeloom.errors import Conflict, Forbidden, Invalid, NotFound
from tradeloom.identity.roles import OrgKind
from tradeloom.outbox.service import emit

ZERO = Decimal(0)
MAX_ANNUAL_RATE = Decimal(36)  # China's ceiling for judicially protected interest; beyond is refused


async def request_early_payment(session: AsyncSession, *, actor: Actor, invoice_id: uuid.UUID,
                                today: dt.date) -> FinanceRequest:
    """The supplier offers an approved, unpaid, not yet due invoice for early payment."""
    invoice = await load_invoice(session, invoice_id)
    if invoice.supplier_org_id != actor.org_id:
        raise Forbidden("Only the invoice's supplier can ask to be paid early.", code="finance_not_supplier")
    if invoice.kind != InvoiceKind.INVOICE or invoice.status != InvoiceStatus.APPROVED:
        raise Conflict("Only an approved (matched) invoice can be financed.", code="finance_invoice_not_approved")
    if invoice.due_date <= today:
        raise Conflict("The invoice is already due.", code="finance_invoice_due")
    outstanding = await invoice_postings.outstanding(session, invoice, viewer_org_id=actor.org_id)
    if outstanding <= 0:
        raise Conflict("Nothing is outstanding on the invoice.", code="finance_nothing_outstanding")
    if await session.scalar(select(FinanceRequest.id).where(FinanceRequest.invoice_id == invoice.id,
                                                            FinanceRequest.status != "withdrawn")):
        raise Conflict("The invoice is already offered for finance.", code="finance_request_exists")
    request = FinanceRequest(org_id=actor.org_id, invoice_id=invoice.id, buyer_org_id=invoice.buyer_org_id,
                             fapiao_number=invoice.fapiao_number, currency=invoice.currency, amount=outstanding,
                             maturity=invoice.due_date, status="open")
    session.add(request)
    await session.flush()
    await _announce(session, actor, "finance.requested", request, {"amount": str(outstanding)})
    return request


async def make_offer(session: AsyncSession, *, actor: Actor, org_kind: str, request_id: uuid.UUID,
                     annual_rate_pct: Decimal, today: dt.date, expires_on: dt.date | None = None) -> FinanceOffer:
    """A financier (factoring) or the invoice's buyer (dynamic discounting) offers a discount rate, open until
    ``expires_on`` (included; None: until the invoice matures) unless withdrawn."""
    request = await get_request(session, request_id)
    if request.status != "open":
        raise Conflict("The request is no longer open.", code="finance_request_closed")
    if not ZERO < annual_rate_pct <= MAX_ANNUAL_RATE:
        raise Invalid(f"The annual rate must be above 0 and at most {MAX_ANNUAL_RATE} %.", code="finance_rate_invalid")
    if expires_on is not None and not today <= expires_on <= request.maturity:
        raise Invalid("An offer expires between today and the invoice's maturity.",
                      code="finance_offer_expiry_invalid")
    if actor.org_id == request.buyer_org_id:
        kind = "dynamic_discount"
    elif org_kind == OrgKind.FINANCIER:
        kind = "factoring"
    else:
        raise Forbidden("Only financiers and the invoice's buyer can make offers.", code="finance_not_offeror")
    days = postings.days_until(request.maturity, today)
    discount = postings.discount_for(request.amount, annual_rate_pct, days)
    offer = FinanceOffer(org_id=actor.org_id, request_id=request.id, supplier_org_id=request.org_id, kind=kind,
                         annual_rate_pct=annual_rate_pct, days=days, discount=discount,
                         advance=request.amount - discount, status="offered", expires_on=expires_on)
    session.add(offer)
    await session.flush()
    await _announce(session, actor, "finance.offered", request, {"offer_id": str(offer.id), "kind": kind,
                                                                 "discount": str(discount)})
    return offer


async def _offer(session: AsyncSession, offer_id: uuid.UUID) -> FinanceOffer:
    offer = await session.scalar(select(FinanceOffer).where(FinanceOffer.id == offer_id).with_for_update())
    if offer is None:
        raise NotFound("No such offer.", code="finance_offer_not_found")
    return offer


async def accept_offer(session: AsyncSession, *, actor: Actor, offer_id: uuid.UUID, today: dt.date) -> FinanceOffer:
    """The supplier accepts a standing, unexpired offer: the receivable is assigned to the financier (or the
    buyer pays early) at once."""
    offer = await _offer(session, offer_id)
    if offer.supplier_org_id != actor.org_id:
        raise Forbidden("Only the supplier can accept an offer.", code="finance_not_supplier")
    request = await session.scalar(select(FinanceRequest).where(FinanceRequest.id == offer.request_id)
                                   .with_for_update())
    assert request is not None
    if request.status != "open" or offer.status != "offered":
        raise Conflict("The request is no longer open.", code="finance_request_closed")
    if offer.expires_on is not None and offer.expires_on < today:
        raise Conflict("The offer has expired.", code="finance_offer_expired")
    request.status, offer.status = "accepted", "accepted"
    await session.execute(update(FinanceOffer).where(FinanceOffer.request_id == request.id,
                                                     FinanceOffer.id != offer.id).values(status="declined"))
    if offer.kind == "factoring":
        await _assign(session, actor, request, offer)
    else:
        await _pay_early(session, actor, request, offer)
    return offer


async def withdraw_offer(session: AsyncSession, *, actor: Actor, offer_id: uuid.UUID) -> FinanceOffer:
    """The offeror takes back an offer not yet accepted."""
    offer = await _offer(session, offer_id)
    if offer.org_id != actor.org_id:
        raise Forbidden("Only the offer's maker can withdraw it.", code="finance_not_offeror")
    if offer.status != "offered":
        raise Conflict("Only a standing offer can be withdrawn.", code="finance_offer_closed")
    offer.status = "withdrawn"
    await session.flush()
    await _announce(session, actor, "finance.offer_withdrawn", await get_request(session, offer.request_id),
                    {"offer_id": str(offer.id)})
    return offer


async def _assign(session: AsyncSession, actor: Actor, request: FinanceRequest, offer: FinanceOffer) -> None:
    await journal.post_entry(
        session, currency=request.currency, kind="finance.assignment",
        reference=f"{invoice_postings.invoice_prefix(request.invoice_id)}:assignment:{offer.id}",
        lines=postings.assignment_lines(supplier=request.org_id, financier=offer.org_id, amount=request.amount,
                                        discount=offer.discount), posted_by_org_id=actor.org_id)
    facts = {"invoice_id": str(request.invoice_id), "fapiao_number": request.fapiao_number,
             "supplier_org_id": str(request.org_id), "buyer_org_id": str(request.buyer_org_id),
             "financier_org_id": str(offer.org_id), "amount": str(request.amount), "advance": str(offer.advance),
             "discount": str(offer.discount), "maturity": request.maturity.isoformat()}
    receipt = await record_evidence(session, org_id=actor.org_id, kind="receivable.assigned",
                                    subject=f"invoice:{request.invoice_id}", payload=facts)
    session.add(ReceivableAssignment(
        org_id=request.org_id, invoice_id=request.invoice_id, offer_id=offer.id, buyer_org_id=request.buyer_org_id,
        financier_org_id=offer.org_id, currency=request.currency, amount=request.amount, maturity=request.maturity,
        status="assigned", evidence_entry_id=receipt.entry_id))
    await flush_or_conflict(session, "The receivable is already assigned.", "finance_already_assigned")
    await emit(session, org_id=actor.org_id, topic="finance.receivable_assigned", payload=facts)
    await record_audit(session, actor=actor, action="finance.receivable_assigned", object_type="invoice",
                       object_id=str(request.invoice_id))


async def _pay_early(session: AsyncSession, actor: Actor, request: FinanceRequest, offer: FinanceOffer) -> None:
    await journal.post_entry(
        session, currency=request.currency, kind="finance.early_payment",
        reference=f"{invoice_postings.invoice_prefix(request.invoice_id)}:early-payment:{offer.id}",
        lines=postings.early_payment_lines(buyer=request.buyer_org_id, supplier=request.org_id,
                                           amount=request.amount, discount=offer.discount),
        posted_by_org_id=actor.org_id)
    await _announce(session, actor, "finance.paid_early", request, {"paid": str(offer.advance),
                                                                    "discount": str(offer.discount)})


async def settle_assignment(session: AsyncSession, *, actor: Actor, assignment_id: uuid.UUID) -> ReceivableAssignment:
    """At maturity the buyer pays the assigned invoice to the financier, not to the supplier: what it still owes
    on the invoice (bank transfers or card payments since the assignment already went to the financier)."""
    assignment = await session.scalar(select(ReceivableAssignment).where(ReceivableAssignment.id == assignment_id)
                                      .with_for_update())
    if assignment is None:
        raise NotFound("No such assignment.", code="finance_assignment_not_found")
    if assignment.buyer_org_id != actor.org_id:
        raise Forbidden("Only the invoice's buyer pays the financier.", code="finance_not_buyer")
    owed = await invoice_postings.outstanding(session, await load_invoice(session, assignment.invoice_id),
                                              viewer_org_id=actor.org_id)
    if assignment.status != "assigned" or owed <= 0:
        raise Conflict("The assignment is already settled.", code="finance_already_settled")
    assignment.status, assignment.settled_at = "settled", utcnow()
    assignment.paid_amount += owed
    await journal.post_entry(
        session, currency=assignment.currency, kind="finance.settlement",
        reference=f"{invoice_postings.invoice_prefix(assignment.invoice_id)}:finance-settlement:{assignment.id}",
        lines=postings.settlement_lines(buyer=assignment.buyer_org_id, financier=assignment.financier_org_id,
                                        amount=owed), posted_by_org_id=actor.org_id)
    facts = {"assignment_id": str(assignment.id), "invoice_id": str(assignment.invoice_id),
             "financier_org_id": str(assignment.financier_org_id), "amount": str(owed)}
    await emit(session, org_id=actor.org_id, topic="finance.settled", payload=facts)
    await record_evidence(session, org_id=actor.org_id, kind="finance.settled",
                          subject=f"invoice:{assignment.invoice_id}", payload=facts)
    await session.flush()
    return assignment


async def get_request(session: AsyncSession, request_id: uuid.UUID) -> FinanceRequest:
    request = await session.get(FinanceRequest, request_id)
    if request is None:
        raise NotFound("No such finance request.", code="finance_request_not_found")
    return request


async def list_requests(session: AsyncSession, *, status: str | None = None) -> list[FinanceRequest]:
    """Requests the caller may see: its own, its invoices', and (for financiers) every open one."""
    query = select(FinanceRequest).order_by(FinanceRequest.maturity, FinanceRequest.created_at).limit(500)
    if status is not None:
        query = query.where(FinanceRequest.status == status)
    return list(await session.scalars(query))


async def offers_for(session: AsyncSession, request_id: uuid.UUID) -> list[FinanceOffer]:
    return list(await session.scalars(select(FinanceOffer).where(FinanceOffer.request_id == request_id)
                                      .order_by(FinanceOffer.discount, FinanceOffer.created_at)))


async def offers_made(session: AsyncSession, *, org_id: uuid.UUID) -> list[tuple[FinanceOffer, FinanceRequest]]:
    """The offers the organization made (as financier or as buyer), newest first, each with its request."""
    rows = await session.execute(select(FinanceOffer, FinanceRequest)
                                 .join(FinanceRequest, FinanceRequest.id == FinanceOffer.request_id)
                                 .where(FinanceOffer.org_id == org_id)
                                 .order_by(FinanceOffer.created_at.desc()).limit(200))
    return [(offer, request) for offer, request in rows]


def offer_state(offer: FinanceOffer, today: dt.date) -> str:
    """What the pages show: the stored status, or ``expired`` for a standing offer past its last day."""
    if offer.status == "offered" and offer.expires_on is not None and offer.expires_on < today:
        return "expired"
    return offer.status


async def list_assignments(session: AsyncSession) -> list[ReceivableAssignment]:
    return list(await session.scalars(select(ReceivableAssignment).order_by(ReceivableAssignment.maturity)))


def maturity_buckets(requests: list[FinanceRequest], today: dt.date) -> dict[str, Decimal]:
    """Open receivables by how soon they mature (the marketplace chart): ≤30, 31–60, 61–90, >90 days."""
    buckets = {"0-30": ZERO, "31-60": ZERO, "61-90": ZERO, "90+": ZERO}
    for request in requests:
        days = (request.maturity - today).days
        name = "0-30" if days <= 30 else "31-60" if days <= 60 else "61-90" if days <= 90 else "90+"
        buckets[name] += request.amount
    return buckets


@dataclass(frozen=True)
class CreditInputs:
    invoices: int
    volume_by_currency: dict[str, Decimal]
    disputed_invoices: int
    paid_invoices: int
    paid_late: int
    average_days_late: Decimal
    max_days_late: int
    open_overdue: int
    performance_score: Decimal  # platform-wide supplier scorecard, 0–100 (50: no history yet)
    performance_stars: Decimal


async def credit_inputs(session: AsyncSession, *, actor: Actor, today: dt.date) -> CreditInputs:
    """The supplier's trade record for credit evaluation: volumes, disputes and how late its invoices were paid."""
    invoices = list(await session.scalars(select(Invoice).where(
        Invoice.supplier_org_id == actor.org_id, Invoice.kind == InvoiceKind.INVOICE)))
    volume: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for invoice in invoices:
        volume[invoice.currency] += invoice.gross_total
    settled_on = await _settled_dates(session, actor.org_id, invoices)
    performance = (await ratings_for(session, supplier_org_ids=[actor.org_id], as_of=today))[actor.org_id]
    lateness = [max((settled_on[i.id] - i.due_date).days, 0) for i in invoices if i.id in settled_on]
    late = [days for days in lateness if days > 0]
    return CreditInputs(
        invoices=len(invoices), volume_by_currency=dict(volume),
        disputed_invoices=sum(1 for i in invoices if i.status in (InvoiceStatus.EXCEPTION, InvoiceStatus.REJECTED)),
        paid_invoices=len(lateness), paid_late=len(late),
        average_days_late=(Decimal(sum(lateness)) / len(lateness)).quantize(Decimal("0.1")) if lateness else ZERO,
        max_days_late=max(lateness, default=0),
        open_overdue=sum(1 for i in invoices if i.id not in settled_on and i.due_date < today
                         and i.status == InvoiceStatus.APPROVED),
        performance_score=performance.score, performance_stars=performance.stars)


async def _settled_dates(session: AsyncSession, org_id: uuid.UUID, invoices: list[Invoice]) -> dict[uuid.UUID, dt.date]:
    """The day each invoice's receivable was cleared (payments, notes, assignment), from the supplier's postings."""
    by_prefix = {invoice_postings.invoice_prefix(i.id): i.id for i in invoices}
    balances: dict[uuid.UUID, Decimal] = defaultdict(lambda: ZERO)
    settled: dict[uuid.UUID, dt.date] = {}
    for posting in await journal.postings_for(session, org_id=org_id, account=AccountKind.RECEIVABLE,
                                              reference_prefix="invoice:"):
        invoice_id = by_prefix.get(":".join(posting.reference.split(":")[:2]))
        if invoice_id is None:
            continue
        balances[invoice_id] += posting.debit - posting.credit
        if balances[invoice_id] <= 0:
            settled.setdefault(invoice_id, posting.posted_at.date())
        else:
            settled.pop(invoice_id, None)
    return settled


async def _announce(session: AsyncSession, actor: Actor, topic: str, request: FinanceRequest,
                    extra: dict[str, Any]) -> None:
    facts = {"request_id": str(request.id), "invoice_id": str(request.invoice_id),
             "supplier_org_id": str(request.org_id), "buyer_org_id": str(request.buyer_org_id),
             "currency": request.currency, "maturity": request.maturity.isoformat()} | extra
    await emit(session, org_id=actor.org_id, topic=topic, payload=facts)
    await record_audit(session, actor=actor, action=topic, object_type="finance_request", object_id=str(request.id))
