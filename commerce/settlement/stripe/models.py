"""Stripe tables. A payment is the buyer's (``org_id``) and visible to the supplier it pays (two-party read policy,
migration 0040); refunds and received webhook events are append-only facts about a payment.

``amount_received`` and ``amount_refunded`` are what this platform has *posted*: they only grow, and each
increase is posted once, whatever order Stripe's confirmations (API answers, webhooks, reconciliation) arrive in.
"""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, CreatedAtMixin, IdMixin, TenantMixin, VersionedMixin, utcnow


class StripePayment(IdMixin, CreatedAtMixin, TenantMixin, VersionedMixin, Base):
    """One PaymentIntent the buyer (``org_id``) pays a supplier with."""

    __tablename__ = "stripe_payments"

    supplier_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    reference: Mapped[str] = mapped_column(String(100))  # what it pays, e.g. an invoice number
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    payment_request_id: Mapped[uuid.UUID | None]  # a milestone's payment request it pays (migration 0111)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal]
    capture_method: Mapped[str] = mapped_column(String(16))  # automatic | manual
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(32))  # Stripe's PaymentIntent status, never moving backwards
    amount_received: Mapped[Decimal] = mapped_column(default=Decimal(0))
    amount_refunded: Mapped[Decimal] = mapped_column(default=Decimal(0))
    last_error: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StripeRefund(IdMixin, CreatedAtMixin, TenantMixin, Base):
    """A refund Stripe made of a payment; unique by Stripe's id, so it is posted once."""

    __tablename__ = "stripe_refunds"

    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stripe_payments.id"), index=True)
    supplier_org_id: Mapped[uuid.UUID]
    refund_id: Mapped[str] = mapped_column(String(255), unique=True)
    amount: Mapped[Decimal]
    reason: Mapped[str | None] = mapped_column(String(100))


class StripeEvent(CreatedAtMixin, TenantMixin, Base):
    """A verified webhook event, stored before it is processed (``INSERT … ON CONFLICT DO NOTHING``)."""

    __tablename__ = "stripe_events"

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), index=True)
    payload: Mapped[dict[str, Any]]
    outcome: Mapped[str | None] = mapped_column(String(32))  # applied | unknown_payment, once processed
    processed_at: Mapped[dt.datetime | None]
