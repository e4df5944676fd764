"""Reconciliation statements (对账单): what a buyer owes a supplier in one currency over a period.

A statement is derived from each party's *own* journal postings on the documents between them (entries filed
under ``invoice:<id>`` of an invoice between the pair: invoices, credit and debit notes, payments, refunds,
assignments to a financier): the supplier reads its receivable account, the buyer its payable account. Amounts
are shown as "owed to the supplier" from both sides, so when the books agree both parties see the same lines,
balances and digest. Each party confirms the digest it saw; the statement is agreed when both confirmed the
same digest, disputed when they confirmed different ones.
"""

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Literal

import rfc8785
from sqlalchemy import String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement import journal
from commerce.settlement.account_statements.models import StatementConfirmation
from commerce.settlement.invoice_models import Invoice
from commerce.settlement.journal import AccountKind
from commerce.settlement.models import JournalEntry, JournalPosting
from ledger.service import record_evidence
from tradeloom.audit import Actor, record_audit
from tradeloom.db import flush_or_conflict
from tradeloom.errors import Conflict, Forbidden, Invalid
from tradeloom.outbox.service import emit

ZERO = Decimal(0)
MAX_PERIOD = dt.timedelta(days=366)
Side = Literal["supplier", "buyer"]

# Journal entry kinds as statement line categories; anything else between the pair shows as "other".
CATEGORIES = {
    "invoice.issued": "invoice", "debit_note.issued": "debit_note", "credit_note.issued": "credit_note",
    "invoice.rejected": "reversal", "invoice.payment": "payment", "payment.stripe": "payment",
    "refund.stripe": "refund", "finance.assignment": "assignment", "finance.settlement": "payment",
    "finance.early_payment": "payment", "escrow.release": "payment",
}

DOCUMENT_CATEGORIES = frozenset({"invoice", "debit_note", "credit_note", "reversal"})


class StatementStatus(StrEnum):
    OPEN = "open"
    AWAITING_COUNTERPARTY = "awaiting_counterparty"
    AGREED = "agreed"
    DISPUTED = "disputed"


@dataclass(frozen=True)
class StatementKey:
    """Which statement: the pair (supplier, buyer), the currency and the period (both dates included)."""

    supplier_org_id: uuid.UUID
    buyer_org_id: uuid.UUID
    currency: str
    period_start: dt.date
    period_end: dt.date

    def check(self) -> None:
        if self.period_end < self.period_start or self.period_end - self.period_start > MAX_PERIOD:
            raise Invalid("The period must end on or after its start and span at most a year.",
                          code="statement_period_invalid")
        if self.supplier_org_id == self.buyer_org_id:
            raise Invalid("A statement is between two different organizations.", code="statement_pair_invalid")


@dataclass(frozen=True)
class StatementLine:
    posted_at: dt.datetime
    category: str
    document: str  # the invoice's fapiao number
    reference: str
    increase: Decimal  # what the buyer owes more (invoice, debit note) …
    decrease: Decimal  # … or less (payment, credit note, assignment)
    balance: Decimal


@dataclass(frozen=True)
class Statement:
    key: StatementKey
    side: Side
    opening_balance: Decimal
    lines: list[StatementLine]
    closing_balance: Decimal
    digest: str
    confirmations: list[StatementConfirmation]

    @property
    def status(self) -> StatementStatus:
        digests = {c.org_id: c.digest for c in self.confirmations}
        if len(digests) < 2:
            return StatementStatus.AWAITING_COUNTERPARTY if digests else StatementStatus.OPEN
        return StatementStatus.AGREED if len(set(digests.values())) == 1 else StatementStatus.DISPUTED

    def totals(self) -> tuple[Decimal, Decimal]:
        return sum((line.increase for line in self.lines), ZERO), sum((line.decrease for line in self.lines), ZERO)


def key_for(actor: Actor, *, counterparty_org_id: uuid.UUID, side: Side, currency: str, period_start: dt.date,
            period_end: dt.date) -> StatementKey:
    """The statement the actor asks for, as ``side`` (``supplier`` = the actor sold to the counterparty)."""
    supplier, buyer = (actor.org_id, counterparty_org_id) if side == "supplier" else (counterparty_org_id, actor.org_id)
    key = StatementKey(supplier, buyer, currency, period_start, period_end)
    key.check()
    return key


async def statement(session: AsyncSession, actor: Actor, key: StatementKey) -> Statement:
    """The statement from the actor's own books, with both parties' confirmations."""
    side = _side(actor, key)
    rows = await _postings(session, actor.org_id, side, key)
    start = dt.datetime.combine(key.period_start, dt.time(), dt.UTC)
    opening = sum((_owed(side, debit, credit) for _, _, posted_at, debit, credit, _ in rows if posted_at < start), ZERO)
    lines, running = [], opening
    for kind, reference, posted_at, debit, credit, document in rows:
        if posted_at < start:
            continue
        change = _owed(side, debit, credit)
        running += change
        lines.append(StatementLine(posted_at, CATEGORIES.get(kind, "other"), document or "", reference,
                                   max(change, ZERO), max(-change, ZERO), running))
    return Statement(key, side, opening, lines, running, _digest(key, opening, lines, running),
                     await _confirmations(session, key))


async def confirm(session: AsyncSession, actor: Actor, key: StatementKey, *, digest: str) -> Statement:
    """Confirm the statement as seen (its ``digest``); a statement that changed meanwhile is 409."""
    current = await statement(session, actor, key)
    if digest != current.digest:
        raise Conflict("The statement changed since you read it; read it again before confirming.",
                       code="statement_changed")
    if any(c.org_id == actor.org_id for c in current.confirmations):
        raise Conflict("Your organization already confirmed this statement.", code="statement_already_confirmed")
    session.add(StatementConfirmation(
        org_id=actor.org_id, supplier_org_id=key.supplier_org_id, buyer_org_id=key.buyer_org_id,
        currency=key.currency, period_start=key.period_start, period_end=key.period_end,
        closing_balance=current.closing_balance, digest=current.digest, confirmed_by_user_id=actor.user_id))
    await flush_or_conflict(session, "Your organization already confirmed this statement.",
                            "statement_already_confirmed")
    confirmed = await statement(session, actor, key)
    facts = {"supplier_org_id": str(key.supplier_org_id), "buyer_org_id": str(key.buyer_org_id),
             "currency": key.currency, "period_start": key.period_start.isoformat(),
             "period_end": key.period_end.isoformat(), "closing_balance": str(current.closing_balance),
             "digest": current.digest, "status": confirmed.status.value}
    await record_evidence(session, org_id=actor.org_id, kind="statement.confirmed",
                          subject=f"statement:{key.supplier_org_id}:{key.buyer_org_id}:{key.currency}:"
                                  f"{key.period_start}:{key.period_end}", payload=facts)
    await emit(session, org_id=actor.org_id, topic="statement.confirmed", payload=facts)
    await record_audit(session, actor=actor, action="statement.confirmed", object_type="statement",
                       object_id=current.digest)
    return confirmed


def _side(actor: Actor, key: StatementKey) -> Side:
    if actor.org_id == key.supplier_org_id:
        return "supplier"
    if actor.org_id == key.buyer_org_id:
        return "buyer"
    raise Forbidden("Only the two parties can read their statement.", code="statement_not_party")


def _owed(side: Side, debit: Decimal, credit: Decimal) -> Decimal:
    """Movement of what the buyer owes: the supplier's receivable debit, the buyer's payable credit."""
    return debit - credit if side == "supplier" else credit - debit


async def _postings(session: AsyncSession, org_id: uuid.UUID, side: Side,
                    key: StatementKey) -> list[tuple[str, str, dt.datetime, Decimal, Decimal, str | None]]:
    """The org's postings (receivable or payable) on entries filed under the pair's invoices, up to the end."""
    account = AccountKind.RECEIVABLE if side == "supplier" else AccountKind.PAYABLE
    invoice_of_entry = func.split_part(JournalEntry.reference, ":", 2)
    end = dt.datetime.combine(key.period_end + dt.timedelta(days=1), dt.time(), dt.UTC)
    pair_invoices = (select(cast(Invoice.id, String)).where(
        Invoice.supplier_org_id == key.supplier_org_id, Invoice.buyer_org_id == key.buyer_org_id,
        Invoice.currency == key.currency))
    rows = await session.execute(
        select(JournalEntry.kind, JournalEntry.reference, JournalPosting.posted_at, JournalPosting.debit,
               JournalPosting.credit, Invoice.fapiao_number)
        .join(JournalEntry, JournalEntry.id == JournalPosting.entry_id)
        .outerjoin(Invoice, cast(Invoice.id, String) == invoice_of_entry)
        .where(JournalPosting.account_id == journal.account_id(org_id, account, key.currency),
               JournalEntry.reference.startswith("invoice:"), invoice_of_entry.in_(pair_invoices),
               JournalPosting.posted_at < end)
        .order_by(JournalPosting.posted_at, JournalPosting.id))
    return [tuple(row) for row in rows.all()]  # type: ignore[misc]


async def _confirmations(session: AsyncSession, key: StatementKey) -> list[StatementConfirmation]:
    return list(await session.scalars(select(StatementConfirmation).where(
        StatementConfirmation.supplier_org_id == key.supplier_org_id,
        StatementConfirmation.buyer_org_id == key.buyer_org_id, StatementConfirmation.currency == key.currency,
        StatementConfirmation.period_start == key.period_start, StatementConfirmation.period_end == key.period_end,
    ).order_by(StatementConfirmation.created_at)))


def _digest(key: StatementKey, opening: Decimal, lines: list[StatementLine], closing: Decimal) -> str:
    """SHA-256 (RFC 8785 JSON) of what both parties must agree on: the balances and the documents.

    Settlement lines are left out on purpose: the same money is a payment in the buyer's books but an
    assignment in the supplier's when a financier bought the receivable; the closing balance covers them.
    """
    document = {
        "supplier": str(key.supplier_org_id), "buyer": str(key.buyer_org_id), "currency": key.currency,
        "period": [key.period_start.isoformat(), key.period_end.isoformat()], "opening": f"{opening:.4f}",
        "closing": f"{closing:.4f}",
        "documents": [[line.reference, line.category, f"{line.increase:.4f}", f"{line.decrease:.4f}"]
                      for line in lines if line.category in DOCUMENT_CATEGORIES],
    }
    return hashlib.sha256(rfc8785.dumps(document)).hexdigest()
