"""Payment requests of an order's milestones (migration 0111).

A request is opened when the order reaches a milestone its payment terms put a share on (confirmation =
prepayment, shipment, receipt); one per order and milestone. Both parties read it (the buyer pays it, the
supplier is paid); ``paid_amount`` counts the money booked for it, ``applied_amount`` what of that was set off
against the order's invoices.
"""

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, CreatedAtMixin, IdMixin


class PaymentRequest(IdMixin, CreatedAtMixin, Base):
    """A share of an order due at one of its milestones: what, by when, and the reference to quote."""

    __tablename__ = "payment_requests"
    __table_args__ = (UniqueConstraint("order_id", "milestone"),)

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("purchase_orders.id"), index=True)
    order_number: Mapped[str] = mapped_column(String(20))
    buyer_org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    supplier_org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    milestone: Mapped[str] = mapped_column(String(16))  # rules.Milestone: confirmation | shipment | receipt
    percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    due_date: Mapped[dt.date] = mapped_column(Date)
    payment_reference: Mapped[str] = mapped_column(String(12), unique=True)
    paid_amount: Mapped[Decimal] = mapped_column(default=Decimal(0))
    applied_amount: Mapped[Decimal] = mapped_column(default=Decimal(0))
    status: Mapped[str] = mapped_column(String(8))  # open | paid
    overdue_since: Mapped[dt.date | None] = mapped_column(Date)
