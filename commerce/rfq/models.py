"""RFQ tables. The buyer (``org_id``) owns an RFQ; invited suppliers read it through their invitation.

Quotations belong to the supplier (``org_id``) and carry the buyer and the sealing time, so that row-level
security can keep them sealed: the buyer reads a quotation only once ``sealed_until`` has passed
(migration 0010). Each revision is a new row; the earlier ones stay, marked superseded.
"""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, CreatedAtMixin, IdMixin, TenantMixin, VersionedMixin, utcnow

QUANTITY = Numeric(18, 6)


class Rfq(IdMixin, CreatedAtMixin, TenantMixin, VersionedMixin, Base):
    __tablename__ = "rfqs"

    title: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    delivery_site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    deadline: Mapped[dt.datetime]
    terms: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(16))  # invited | open
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, awarded, cancelled


class RfqLine(IdMixin, TenantMixin, Base):
    __tablename__ = "rfq_lines"
    __table_args__ = (UniqueConstraint("rfq_id", "line_no"),)

    rfq_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rfqs.id"), index=True)
    line_no: Mapped[int]
    material_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("materials.id"))
    description: Mapped[str] = mapped_column(String(300))
    class_code: Mapped[str] = mapped_column(String(8))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit: Mapped[str] = mapped_column(String(3))
    required_date: Mapped[dt.date] = mapped_column(Date)


class RfqInvitation(TenantMixin, Base):
    """A supplier that may see and quote an RFQ (named by the buyer, or matched for an open RFQ)."""

    __tablename__ = "rfq_invitations"

    rfq_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rfqs.id"), primary_key=True)
    supplier_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # invited | matched
    invited_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RfqQuestion(IdMixin, CreatedAtMixin, TenantMixin, Base):
    """A clarification question; every invitee sees it and its answer, none sees who asked."""

    __tablename__ = "rfq_questions"

    rfq_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rfqs.id"), index=True)
    asked_by_org_id: Mapped[uuid.UUID]
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[dt.datetime | None]


class Quotation(IdMixin, TenantMixin, Base):
    """One revision of a supplier's quotation; ``org_id`` is the supplier."""

    __tablename__ = "quotations"
    __table_args__ = (UniqueConstraint("rfq_id", "org_id", "revision"),)

    rfq_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rfqs.id"), index=True)
    buyer_org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    sealed_until: Mapped[dt.datetime]
    revision: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="submitted")  # submitted | superseded
    currency: Mapped[str] = mapped_column(String(3))
    valid_until: Mapped[dt.date] = mapped_column(Date)
    freight: Mapped[Decimal] = mapped_column(default=Decimal(0))
    notes: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class QuotationLine(IdMixin, TenantMixin, Base):
    """The price of one RFQ line: breaks per ``unit`` (``[{min_quantity, unit_price}]``), or an alternative."""

    __tablename__ = "quotation_lines"

    quotation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quotations.id"), index=True)
    rfq_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rfq_lines.id"))
    buyer_org_id: Mapped[uuid.UUID]
    sealed_until: Mapped[dt.datetime]
    unit: Mapped[str] = mapped_column(String(3))
    price_tiers: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list)
    lead_time_days: Mapped[int]
    alternative: Mapped[str | None] = mapped_column(String(300))


class RfqAward(IdMixin, CreatedAtMixin, TenantMixin, Base):
    """Part or all of an RFQ line given to one supplier at its quoted price."""

    __tablename__ = "rfq_awards"

    rfq_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rfqs.id"), index=True)
    rfq_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rfq_lines.id"))
    quotation_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quotation_lines.id"))
    supplier_org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit: Mapped[str] = mapped_column(String(3))
    unit_price: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    outcome: Mapped[str] = mapped_column(String(16))  # order | contract
    reference: Mapped[str | None] = mapped_column(String(100))  # order:<id> or contract:<id>
