"""Finance requests, offers and receivable assignments (migrations 0042, 0043: offer expiry, 0110: what the
financier was paid and when the assignment was settled).

A request (``org_id`` = the supplier) is seen by its buyer and, while open, by every financier organization
(the receivables marketplace); an offer (``org_id`` = the financier, or the buyer for dynamic discounting) by
its maker and the supplier; an assignment by the supplier, the buyer and the financier.
"""

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, CreatedAtMixin, IdMixin, TenantMixin, VersionedMixin

RATE = Numeric(9, 6)


class FinanceRequest(IdMixin, CreatedAtMixin, TenantMixin, VersionedMixin, Base):
    """The supplier asks to be paid early for an approved invoice; open until an offer is accepted."""

    __tablename__ = "finance_requests"

    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoices.id"), index=True)
    buyer_org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    fapiao_number: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal]  # what the buyer owes on the invoice at maturity
    maturity: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(12), index=True)  # open | accepted | withdrawn


class FinanceOffer(IdMixin, CreatedAtMixin, TenantMixin, VersionedMixin, Base):
    """An annual discount rate offered on a request: by a financier, or by the buyer (dynamic discounting)."""

    __tablename__ = "finance_offers"

    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("finance_requests.id"), index=True)
    supplier_org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(20))  # factoring | dynamic_discount
    annual_rate_pct: Mapped[Decimal] = mapped_column(RATE)
    days: Mapped[int]
    discount: Mapped[Decimal]
    advance: Mapped[Decimal]  # what the supplier receives now: amount − discount
    status: Mapped[str] = mapped_column(String(12))  # offered | accepted | declined | withdrawn
    expires_on: Mapped[dt.date | None] = mapped_column(Date)  # last day it can be accepted (None: until maturity)


class ReceivableAssignment(IdMixin, CreatedAtMixin, TenantMixin, VersionedMixin, Base):
    """The supplier's receivable on an invoice, assigned to a financier; settled when the buyer pays it."""

    __tablename__ = "receivable_assignments"

    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoices.id"), unique=True)
    offer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("finance_offers.id"))
    buyer_org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    financier_org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal]
    maturity: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))  # assigned | settled
    evidence_entry_id: Mapped[int | None]
    paid_amount: Mapped[Decimal] = mapped_column(default=Decimal(0))  # buyer's payments redirected to the financier
    settled_at: Mapped[dt.datetime | None]
