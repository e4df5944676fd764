"""A party's confirmation of a reconciliation statement (migration 0041).

Statements themselves are not stored: they are derived from journal postings whenever they are read. What is
stored is each party's confirmation of the statement it saw (its closing balance and the digest of its lines);
both parties read both confirmations; rows are append-only.
"""

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, CreatedAtMixin, IdMixin, TenantMixin


class StatementConfirmation(IdMixin, CreatedAtMixin, TenantMixin, Base):
    """``org_id`` (the supplier or the buyer) confirmed the statement of the pair for the period."""

    __tablename__ = "statement_confirmations"
    __table_args__ = (
        UniqueConstraint("supplier_org_id", "buyer_org_id", "currency", "period_start", "period_end", "org_id",
                         name="uq_statement_confirmations_party_period"),
    )

    supplier_org_id: Mapped[uuid.UUID]
    buyer_org_id: Mapped[uuid.UUID]
    currency: Mapped[str] = mapped_column(String(3))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    closing_balance: Mapped[Decimal]
    digest: Mapped[str] = mapped_column(String(64))
    confirmed_by_user_id: Mapped[uuid.UUID | None]
