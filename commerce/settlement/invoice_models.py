"""Invoices (发票), credit and debit notes, their lines with the three-way match result, the buyer's match
tolerances, payments and imported bank statement lines (migration 0031).

Invoices, lines and payments are seen by both parties (buyer and supplier: a two-party RLS policy); match
tolerances and bank statement lines belong to one organization.
"""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, ForeignKey, Numeric, SmallInteger, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, CreatedAtMixin, IdMixin, TenantMixin, VersionedMixin, utcnow

QUANTITY = Numeric(18, 6)
PERCENT = Numeric(7, 4)


class Invoice(IdMixin, CreatedAtMixin, VersionedMixin, Base):
    """A supplier's invoice to a buyer (``kind`` invoice), or a credit/debit note correcting one."""

    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("supplier_org_id", "fapiao_number"),)

    kind: Mapped[str] = mapped_column(String(12))  # invoice | credit_note | debit_note
    corrects_invoice_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("invoices.id"))
    buyer_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    supplier_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), index=True)  # matched | exception | approved | rejected
    # China fapiao (发票) data, as printed
    fapiao_type: Mapped[str] = mapped_column(String(12))  # special | ordinary | electronic
    fapiao_number: Mapped[str] = mapped_column(String(20))
    issue_date: Mapped[dt.date] = mapped_column(Date)
    seller_name: Mapped[str] = mapped_column(String(200))
    seller_uscc: Mapped[str] = mapped_column(String(18))
    buyer_name: Mapped[str] = mapped_column(String(200))
    buyer_uscc: Mapped[str] = mapped_column(String(18))
    net_total: Mapped[Decimal]
    tax_total: Mapped[Decimal]
    gross_total: Mapped[Decimal]
    due_date: Mapped[dt.date] = mapped_column(Date)
    overdue_since: Mapped[dt.date | None] = mapped_column(Date)  # set once by the overdue check (invoice.overdue)
    payment_reference: Mapped[str] = mapped_column(String(24), unique=True)
    fapiao_file: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # {filename, media_type, size, sha256}
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class InvoiceLine(IdMixin, Base):
    """One invoiced order line, with what the three-way match found and how an exception was resolved."""

    __tablename__ = "invoice_lines"
    __table_args__ = (UniqueConstraint("invoice_id", "line_no"),)

    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    buyer_org_id: Mapped[uuid.UUID]
    supplier_org_id: Mapped[uuid.UUID]
    line_no: Mapped[int] = mapped_column(SmallInteger)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("purchase_orders.id"))
    order_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order_lines.id"), index=True)
    material_code: Mapped[str] = mapped_column(String(24))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit: Mapped[str] = mapped_column(String(3))
    unit_price: Mapped[Decimal]
    tax_rate: Mapped[str] = mapped_column(String(8))
    net: Mapped[Decimal]
    tax: Mapped[Decimal]
    gross: Mapped[Decimal]
    match_status: Mapped[str] = mapped_column(String(16))  # rules.LineMatch
    match_reasons: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list)
    resolution_note: Mapped[str | None] = mapped_column(String(500))
    adjusts: Mapped[str | None] = mapped_column(String(8))  # on a note line: "quantity" or "price"


class MatchTolerance(IdMixin, TenantMixin, VersionedMixin, Base):
    """A buyer's three-way match tolerances: how far (in %) invoiced quantity and price may exceed the PO."""

    __tablename__ = "match_tolerances"
    __table_args__ = (UniqueConstraint("org_id"),)

    quantity_pct: Mapped[Decimal] = mapped_column(PERCENT)
    price_pct: Mapped[Decimal] = mapped_column(PERCENT)


class Payment(IdMixin, CreatedAtMixin, Base):
    """Money received for an invoice (a matched bank line, a provider success) or paid into escrow."""

    __tablename__ = "settlement_payments"

    invoice_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("purchase_orders.id"), index=True)
    buyer_org_id: Mapped[uuid.UUID]
    supplier_org_id: Mapped[uuid.UUID]
    method: Mapped[str] = mapped_column(String(16))  # bank_transfer | escrow | stripe …
    kind: Mapped[str] = mapped_column(String(16))  # payment | escrow_deposit | escrow_release | escrow_refund
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(120))
    journal_entry_id: Mapped[uuid.UUID]


class BankStatementLine(IdMixin, TenantMixin, CreatedAtMixin, Base):
    """One credit line of an imported bank statement; matched to an invoice by reference and amount, or queued."""

    __tablename__ = "bank_statement_lines"
    __table_args__ = (UniqueConstraint("org_id", "bank_ref"),)

    bank_ref: Mapped[str] = mapped_column(String(64))  # the bank's own id of the line (AcctSvcrRef / CSV id)
    booking_date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    remittance: Mapped[str] = mapped_column(String(300))
    payer_name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(12))  # matched | unmatched
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("invoices.id"))
    note: Mapped[str] = mapped_column(String(200), default="")
