"""Journal tables: accounts per organization, entries and their postings (migration 0030).

The journal is append-only: the app role may SELECT and INSERT, never UPDATE or DELETE, and balances are sums
of postings. A deferred constraint trigger (see the migration) refuses, at commit, any entry whose postings do
not balance, in total and for every organization taking part in it.
"""

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKeyConstraint,
    Identity,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, CreatedAtMixin, TenantMixin, utcnow


class SettlementAccount(CreatedAtMixin, TenantMixin, Base):
    """One account of one organization's books, in one currency (``kind``: receivable, payable, bank …)."""

    __tablename__ = "settlement_accounts"
    __table_args__ = (
        UniqueConstraint("org_id", "kind", "currency"),
        UniqueConstraint("id", "org_id", "currency", name="uq_settlement_accounts_identity"),
    )

    # Derived from (org, kind, currency) by ``journal.account_id`` so that any party can name it without reading it.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))


class JournalEntry(CreatedAtMixin, Base):
    """One business event in the books (an invoice, a payment, a release …): one currency, balanced postings."""

    __tablename__ = "journal_entries"
    __table_args__ = (
        UniqueConstraint("kind", "reference"),
        UniqueConstraint("id", "currency", name="uq_journal_entries_identity"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(120))
    currency: Mapped[str] = mapped_column(String(3))
    memo: Mapped[str] = mapped_column(String(200), default="")
    posted_by_org_id: Mapped[uuid.UUID | None]
    posted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class JournalPosting(Base):
    """A debit or a credit of one account; its organization and currency must be those of the account."""

    __tablename__ = "journal_postings"
    __table_args__ = (
        ForeignKeyConstraint(["entry_id", "currency"], ["journal_entries.id", "journal_entries.currency"],
                             name="fk_journal_postings_entry"),
        ForeignKeyConstraint(["account_id", "org_id", "currency"],
                             ["settlement_accounts.id", "settlement_accounts.org_id", "settlement_accounts.currency"],
                             name="fk_journal_postings_account"),
        CheckConstraint("debit >= 0 AND credit >= 0 AND (debit = 0) <> (credit = 0)", name="one_sided"),
        Index("ix_journal_postings_account_posted", "account_id", "posted_at"),
        Index("ix_journal_postings_org_posted", "org_id", "posted_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(index=True)
    line_no: Mapped[int] = mapped_column(SmallInteger)
    account_id: Mapped[uuid.UUID]
    org_id: Mapped[uuid.UUID]
    currency: Mapped[str] = mapped_column(String(3))
    debit: Mapped[Decimal] = mapped_column(default=Decimal(0))
    credit: Mapped[Decimal] = mapped_column(default=Decimal(0))
    posted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
