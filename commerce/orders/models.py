"""Purchase-order tables. An order and its lines are seen by both parties (buyer and supplier), so they carry
both org ids and a two-party RLS policy (migration 0009) instead of the single ``org_id`` of ``TenantMixin``."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Identity, Index, Numeric, SmallInteger, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, CreatedAtMixin, IdMixin, TenantMixin, VersionedMixin, utcnow

QUANTITY = Numeric(18, 6)
RATE = Numeric(18, 8)


class PurchaseOrder(IdMixin, CreatedAtMixin, VersionedMixin, Base):
    __tablename__ = "purchase_orders"
    __table_args__ = (
        UniqueConstraint("buyer_org_id", "number"),
        Index("ix_purchase_orders_buyer_created", "buyer_org_id", "created_at"),
        Index("ix_purchase_orders_supplier_created", "supplier_org_id", "created_at"),
    )

    number: Mapped[str] = mapped_column(String(20))
    buyer_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    supplier_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    delivery_site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    currency: Mapped[str] = mapped_column(String(3))
    fx_rate_to_cny: Mapped[Decimal] = mapped_column(RATE)
    payment_terms: Mapped[str] = mapped_column(String(200), default="")
    requested_date: Mapped[dt.date | None] = mapped_column(Date)
    cost_centre: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))  # cart | award | call_off
    reference: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(24), index=True)
    confirmation: Mapped[str | None] = mapped_column(String(8))  # full | partial, once confirmed
    net_total: Mapped[Decimal]
    tax_total: Mapped[Decimal]
    gross_total: Mapped[Decimal]
    approvals_required: Mapped[int] = mapped_column(SmallInteger, default=0)
    approvals_given: Mapped[int] = mapped_column(SmallInteger, default=0)
    budget_reserved: Mapped[Decimal] = mapped_column(default=Decimal(0))  # held on the cost centre
    created_by_user_id: Mapped[uuid.UUID | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OrderLine(IdMixin, Base):
    __tablename__ = "order_lines"
    __table_args__ = (UniqueConstraint("order_id", "line_no"),)

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("purchase_orders.id", ondelete="CASCADE"))
    buyer_org_id: Mapped[uuid.UUID]
    supplier_org_id: Mapped[uuid.UUID]
    line_no: Mapped[int] = mapped_column(SmallInteger)
    material_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("materials.id"))
    material_code: Mapped[str] = mapped_column(String(24))
    material_class: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit: Mapped[str] = mapped_column(String(3))
    unit_price: Mapped[Decimal]
    tax_rate: Mapped[str] = mapped_column(String(8))  # "13", "9", "6", "0" or "exempt"
    net: Mapped[Decimal]
    tax: Mapped[Decimal]
    gross: Mapped[Decimal]
    requested_date: Mapped[dt.date | None] = mapped_column(Date)
    confirmed_quantity: Mapped[Decimal | None] = mapped_column(QUANTITY)
    confirmed_date: Mapped[dt.date | None] = mapped_column(Date)
    price_rule: Mapped[str | None] = mapped_column(String(32))  # e.g. contract_price_list, award, call_off
    price_reference: Mapped[str | None] = mapped_column(String(100))


class OrderEvent(Base):
    """The order's timeline: append-only, one row per step (who, when, from which status to which)."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("purchase_orders.id", ondelete="CASCADE"), index=True)
    buyer_org_id: Mapped[uuid.UUID]
    supplier_org_id: Mapped[uuid.UUID]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_org_id: Mapped[uuid.UUID]
    actor_user_id: Mapped[uuid.UUID | None]
    kind: Mapped[str] = mapped_column(String(40))  # the outbox topic, e.g. order.confirmed
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    order_version: Mapped[int]
    note: Mapped[str | None] = mapped_column(String(1000))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class OrderApproval(Base):
    """One approver's approval of one order; a person approves an order at most once."""

    __tablename__ = "order_approvals"

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("purchase_orders.id", ondelete="CASCADE"),
                                                primary_key=True)
    approver_user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    step: Mapped[int] = mapped_column(SmallInteger)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ApprovalRule(IdMixin, CreatedAtMixin, TenantMixin, VersionedMixin, Base):
    """From ``min_amount`` (gross, in ``currency``) an order needs ``approvals_required`` distinct approvers;
    ``class_prefix`` narrows the rule to lines of one material class subtree."""

    __tablename__ = "approval_rules"

    name: Mapped[str] = mapped_column(String(120))
    currency: Mapped[str] = mapped_column(String(3))
    min_amount: Mapped[Decimal]
    class_prefix: Mapped[str | None] = mapped_column(String(8))
    approvals_required: Mapped[int] = mapped_column(SmallInteger)
    is_active: Mapped[bool] = mapped_column(default=True)


class CostCentreBudget(IdMixin, CreatedAtMixin, TenantMixin, VersionedMixin, Base):
    """What a cost centre may commit in orders; approval reserves the order's gross total against it."""

    __tablename__ = "cost_centre_budgets"
    __table_args__ = (UniqueConstraint("org_id", "code", "currency"),)

    code: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal]
    committed: Mapped[Decimal] = mapped_column(default=Decimal(0))


class OrderNumberSequence(TenantMixin, Base):
    """The last order number a buyer used in a year: advanced in the order's own transaction, so no gaps."""

    __tablename__ = "order_number_sequences"

    org_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    last_number: Mapped[int]


class FxRate(Base):
    """Platform exchange rates to CNY, captured on each order when it is created."""

    __tablename__ = "fx_rates"

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    rate_to_cny: Mapped[Decimal] = mapped_column(RATE)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ChangeOrder(IdMixin, CreatedAtMixin, VersionedMixin, Base):
    """A proposed change to a confirmed order's lines; applied only when the other party accepts it."""

    __tablename__ = "change_orders"
    __table_args__ = (UniqueConstraint("order_id", "revision"),)

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("purchase_orders.id", ondelete="CASCADE"))
    buyer_org_id: Mapped[uuid.UUID]
    supplier_org_id: Mapped[uuid.UUID]
    revision: Mapped[int] = mapped_column(SmallInteger)
    proposed_by_org_id: Mapped[uuid.UUID]
    proposed_by_user_id: Mapped[uuid.UUID | None]
    status: Mapped[str] = mapped_column(String(12))  # proposed | accepted | declined | withdrawn
    reason: Mapped[str] = mapped_column(String(1000))
    line_changes: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    decided_at: Mapped[dt.datetime | None]
