"""The double-entry journal: the one way money is written down, and balances read back from postings.

Each organization has its own accounts (``AccountKind``) per currency. An entry records one business event in
one currency; its postings may touch several organizations' books (a payment is the buyer's and the
supplier's at once) but must balance in total *and for each organization* — checked here and, as the last
word, by a deferred constraint trigger in PostgreSQL. Nothing is ever updated: a correction is a new entry.

``(kind, reference)`` is unique: posting the same event twice is refused (``journal_entry_duplicate``), so a
retry after a crash can safely try again and treat the conflict as "already done" (see ``find_entry``).
"""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TypeVarTuple

from sqlalchemy import Select, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement.models import JournalEntry, JournalPosting, SettlementAccount
from tradeloom.db import utcnow
from tradeloom.errors import Conflict, Invalid

ZERO = Decimal(0)
_Row = TypeVarTuple("_Row")
_ACCOUNT_NAMESPACE = uuid.UUID("5e771e00-0000-4000-8000-00000000a0c7")
_CHECK_NOW = text("SET CONSTRAINTS journal_entry_balanced, journal_posting_balanced IMMEDIATE")
_CHECK_AT_COMMIT = text("SET CONSTRAINTS journal_entry_balanced, journal_posting_balanced DEFERRED")


class AccountKind(StrEnum):
    """The accounts every organization has (opened on first use), one set per currency."""

    RECEIVABLE = "receivable"  # owed to the org by its customers (and, after assignment, to a financier)
    PAYABLE = "payable"  # owed by the org to its suppliers
    ESCROW = "escrow"  # the org's money held by the platform (担保交易) until goods are received
    FINANCING = "financing"  # supply-chain finance: discounts given or earned on assigned receivables
    PLATFORM_FEES = "platform_fees"  # fees charged by (or, for the operator, earned by) the platform
    BANK = "bank"  # the org's bank/cash
    REVENUE = "revenue"  # net sales invoiced
    PURCHASES = "purchases"  # net purchases invoiced
    VAT_OUTPUT = "vat_output"  # VAT charged on sales (销项税)
    VAT_INPUT = "vat_input"  # VAT paid on purchases (进项税)
    ADVANCES = "advances"  # milestone payments before the invoice: prepaid (预付) / received in advance (预收)


@dataclass(frozen=True)
class Line:
    """One posting to be made: ``amount`` debited or credited to ``account`` of ``org_id``."""

    org_id: uuid.UUID
    account: AccountKind
    debit: Decimal = ZERO
    credit: Decimal = ZERO

    @classmethod
    def dr(cls, org_id: uuid.UUID, account: AccountKind, amount: Decimal) -> "Line":
        return cls(org_id, account, debit=amount)

    @classmethod
    def cr(cls, org_id: uuid.UUID, account: AccountKind, amount: Decimal) -> "Line":
        return cls(org_id, account, credit=amount)


@dataclass(frozen=True)
class Posting:
    """A posting as read back, with its entry's kind and reference."""

    entry_id: uuid.UUID
    kind: str
    reference: str
    account: AccountKind
    currency: str
    debit: Decimal
    credit: Decimal
    posted_at: dt.datetime


def account_id(org_id: uuid.UUID, account: AccountKind, currency: str) -> uuid.UUID:
    """The account's id is derived from what it is, so a party can post to a counterparty's account unseen."""
    return uuid.uuid5(_ACCOUNT_NAMESPACE, f"{org_id}/{account.value}/{currency}")


def check_balanced(lines: Sequence[Line]) -> None:
    """Refuse lines that are not a valid balanced entry: two or more one-sided positive amounts, balanced in
    total and per organization, with at most 4 decimal places (the journal's NUMERIC(18,4))."""
    if len(lines) < 2:
        raise Invalid("A journal entry needs at least two postings.", code="journal_entry_too_short")
    per_org: dict[uuid.UUID, Decimal] = {}
    for line in lines:
        amount = line.debit or line.credit
        if line.debit < 0 or line.credit < 0 or (line.debit > 0) == (line.credit > 0):
            raise Invalid("Each posting is either a positive debit or a positive credit.",
                          code="journal_posting_invalid")
        if amount != amount.quantize(Decimal("0.0001")):
            raise Invalid("Journal amounts have at most 4 decimal places.", code="journal_posting_invalid")
        per_org[line.org_id] = per_org.get(line.org_id, ZERO) + line.debit - line.credit
    if any(per_org.values()):
        raise Invalid("The entry does not balance (debits ≠ credits for an organization).",
                      code="journal_entry_unbalanced")


async def post_entry(
    session: AsyncSession, *, currency: str, lines: Sequence[Line], reference: str, kind: str,
    posted_by_org_id: uuid.UUID | None = None, memo: str = "",
) -> uuid.UUID:
    """Write one balanced entry and return its id; the database checks the balance again before returning.

    ``posted_by_org_id`` defaults to the transaction's tenant (only it may add postings to the entry)."""
    check_balanced(lines)
    entry_id, now = uuid.uuid4(), utcnow()
    await _open_accounts(session, currency, lines)
    try:
        async with session.begin_nested():
            await session.execute(insert(JournalEntry).values(
                id=entry_id, kind=kind, reference=reference, currency=currency, memo=memo,
                posted_by_org_id=posted_by_org_id or func.tl_current_org(), posted_at=now, created_at=now))
            await session.execute(insert(JournalPosting), [
                {"entry_id": entry_id, "line_no": no, "account_id": account_id(line.org_id, line.account, currency),
                 "org_id": line.org_id, "currency": currency, "debit": line.debit, "credit": line.credit,
                 "posted_at": now}
                for no, line in enumerate(lines, start=1)
            ])
            await session.execute(_CHECK_NOW)
            await session.execute(_CHECK_AT_COMMIT)
    except IntegrityError as exc:
        if "uq_journal_entries_kind" in str(exc.orig):
            raise Conflict(f"The {kind} entry {reference} is already in the journal.",
                           code="journal_entry_duplicate") from exc
        raise
    return entry_id


async def _open_accounts(session: AsyncSession, currency: str, lines: Sequence[Line]) -> None:
    rows = {(line.org_id, line.account) for line in lines}
    await session.execute(
        pg_insert(SettlementAccount).values([
            {"id": account_id(org, kind, currency), "org_id": org, "kind": kind.value, "currency": currency,
             "created_at": utcnow()}
            for org, kind in sorted(rows)
        ]).on_conflict_do_nothing()
    )


async def find_entry(session: AsyncSession, *, kind: str, reference: str) -> uuid.UUID | None:
    """The id of the entry already posted for this event, if the caller can see it."""
    return await session.scalar(
        select(JournalEntry.id).where(JournalEntry.kind == kind, JournalEntry.reference == reference))


async def balance(
    session: AsyncSession, *, org_id: uuid.UUID, account: AccountKind, currency: str,
    as_of: dt.datetime | None = None, reference_prefix: str | None = None,
) -> Decimal:
    """Debits minus credits of one account (optionally up to ``as_of``, or only entries whose reference starts
    with ``reference_prefix``, e.g. ``invoice:<id>``): a liability or income account has a negative balance."""
    query = (select(func.coalesce(func.sum(JournalPosting.debit - JournalPosting.credit), ZERO))
             .where(JournalPosting.account_id == account_id(org_id, account, currency)))
    query = _narrow(query, as_of=as_of, reference_prefix=reference_prefix)
    total = await session.scalar(query)
    return Decimal(total) if total is not None else ZERO


async def postings_for(
    session: AsyncSession, *, org_id: uuid.UUID, account: AccountKind | None = None, currency: str | None = None,
    since: dt.datetime | None = None, as_of: dt.datetime | None = None, reference_prefix: str | None = None,
) -> list[Posting]:
    """An organization's postings in posting order, optionally for one account/currency and a period."""
    query = (select(JournalPosting.entry_id, JournalEntry.kind, JournalEntry.reference, SettlementAccount.kind,
                    JournalPosting.currency, JournalPosting.debit, JournalPosting.credit, JournalPosting.posted_at)
             .join(JournalEntry, JournalEntry.id == JournalPosting.entry_id)
             .join(SettlementAccount, SettlementAccount.id == JournalPosting.account_id)
             .where(JournalPosting.org_id == org_id)
             .order_by(JournalPosting.posted_at, JournalPosting.id))
    if account is not None:
        query = query.where(SettlementAccount.kind == account.value)
    if currency is not None:
        query = query.where(JournalPosting.currency == currency)
    if since is not None:
        query = query.where(JournalPosting.posted_at >= since)
    query = _narrow(query, as_of=as_of, reference_prefix=reference_prefix)
    rows = (await session.execute(query)).all()
    return [Posting(row[0], row[1], row[2], AccountKind(row[3]), row[4], row[5], row[6], row[7]) for row in rows]


def _narrow(
    query: Select[*_Row], *, as_of: dt.datetime | None, reference_prefix: str | None,
) -> Select[*_Row]:
    """Limit a postings query to a cut-off time and/or to entries whose reference has a prefix."""
    if as_of is not None:
        query = query.where(JournalPosting.posted_at <= as_of)
    if reference_prefix is not None:
        query = query.where(JournalPosting.entry_id.in_(
            select(JournalEntry.id).where(JournalEntry.reference.startswith(reference_prefix, autoescape=True))))
    return query


async def trial_balance(session: AsyncSession, *, org_id: uuid.UUID) -> list[tuple[AccountKind, str, Decimal]]:
    """Every account of the organization with its balance (debits − credits), by currency and account."""
    rows = await session.execute(
        select(SettlementAccount.kind, SettlementAccount.currency,
               func.coalesce(func.sum(JournalPosting.debit - JournalPosting.credit), ZERO))
        .join(JournalPosting, JournalPosting.account_id == SettlementAccount.id)
        .where(SettlementAccount.org_id == org_id)
        .group_by(SettlementAccount.kind, SettlementAccount.currency)
        .order_by(SettlementAccount.currency, SettlementAccount.kind))
    return [(AccountKind(kind), currency, Decimal(amount)) for kind, currency, amount in rows.all()]
