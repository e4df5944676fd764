"""Logistics tables: warehouses and their stock, reservations, shipments (advance shipping notices), carrier
tracking, freight quotes, goods receipts and returns.

Stock is an append-only movement log (``stock_movements``) and two levels derived from it in the same
transaction: ``stock_levels`` per location, batch and serial, and ``stock_balances`` per warehouse and material,
which also carries what is reserved (the row the reservation's conditional UPDATE targets). The database checks
keep both levels non-negative and reservations within what is on hand.

Shipments, receipts and returns are seen by both trading parties (and a shipment also by its carrier), so they
carry both org ids and a multi-party RLS policy (migration 0020) instead of ``TenantMixin``.
"""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, CreatedAtMixin, IdMixin, TenantMixin, VersionedMixin, utcnow

QUANTITY = Numeric(18, 6)
WEIGHT = Numeric(12, 3)


class Warehouse(IdMixin, CreatedAtMixin, TenantMixin, VersionedMixin, Base):
    """A supplier's or buyer's warehouse at one of its sites (the site carries the address)."""

    __tablename__ = "warehouses"
    __table_args__ = (UniqueConstraint("org_id", "code"),)

    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    code: Mapped[str] = mapped_column(String(32))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)


class WarehouseLocation(IdMixin, TenantMixin, Base):
    """A bin, rack or zone inside a warehouse; every stock movement names one."""

    __tablename__ = "warehouse_locations"
    __table_args__ = (UniqueConstraint("warehouse_id", "code"),)

    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouses.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(120), default="")


class StockMovement(TenantMixin, Base):
    """One change of stock (append-only): positive quantities come in, negative go out.

    ``kind`` is receipt, issue, transfer_out, transfer_in or adjustment; a transfer writes two rows with the
    same ``reference``. Levels are the running sums of these rows (``service.stock.check_levels`` proves it).
    """

    __tablename__ = "stock_movements"
    __table_args__ = (Index("ix_stock_movements_level", "org_id", "location_id", "material_id", "batch", "serial"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouses.id"))
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse_locations.id"))
    material_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("materials.id"))
    batch: Mapped[str] = mapped_column(String(40), default="")
    serial: Mapped[str] = mapped_column(String(40), default="")
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str | None] = mapped_column(String(300))
    reference: Mapped[str | None] = mapped_column(String(100))  # e.g. shipment:<id>, receipt:<id>
    actor_user_id: Mapped[uuid.UUID | None]


class StockLevel(TenantMixin, Base):
    """What lies at one location, per material, batch and serial (the sum of its movements; never negative)."""

    __tablename__ = "stock_levels"
    __table_args__ = (CheckConstraint("quantity >= 0", name="not_negative"),)

    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse_locations.id"), primary_key=True)
    material_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("materials.id"), primary_key=True)
    batch: Mapped[str] = mapped_column(String(40), primary_key=True)
    serial: Mapped[str] = mapped_column(String(40), primary_key=True)
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouses.id"))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit: Mapped[str] = mapped_column(String(3))


class StockBalance(TenantMixin, Base):
    """A material's stock in one warehouse: on hand (sum of its levels) and reserved for confirmed orders.

    Available is ``on_hand - reserved``; a reservation is one ``UPDATE … WHERE on_hand - reserved >= qty``.
    """

    __tablename__ = "stock_balances"
    __table_args__ = (
        CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_within_on_hand"),
    )

    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouses.id"), primary_key=True)
    material_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("materials.id"), primary_key=True)
    on_hand: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal(0))
    reserved: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal(0))
    unit: Mapped[str] = mapped_column(String(3))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StockReservation(IdMixin, CreatedAtMixin, TenantMixin, Base):
    """Stock held in the supplier's warehouse (``org_id``) for one confirmed order line.

    ``quantity`` is what could be held; ``backordered`` what was short when reserving. Status: active →
    consumed (shipped) | released (order cancelled or reduced) | expired (held too long).
    """

    __tablename__ = "stock_reservations"
    __table_args__ = (
        Index("ix_stock_reservations_active_line", "order_line_id", unique=True,
              postgresql_where=text("status = 'active'")),
        Index("ix_stock_reservations_expiry", "expires_at", postgresql_where=text("status = 'active'")),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("purchase_orders.id"), index=True)
    order_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order_lines.id"))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouses.id"))
    material_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("materials.id"))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    backordered: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal(0))
    unit: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(12), default="active")
    expires_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]


class Carrier(IdMixin, CreatedAtMixin, Base):
    """A carrier (express company or a logistics provider organization) and its webhook signing secret."""

    __tablename__ = "carriers"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    org_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"))
    webhook_secret: Mapped[str] = mapped_column(String(128))


class Shipment(IdMixin, CreatedAtMixin, VersionedMixin, Base):
    """An advance shipping notice: what the supplier sends the buyer against one order.

    Status: draft → dispatched → delivered → received (or cancelled while draft); ``tracking_state`` follows
    the carrier: pending → picked_up → in_transit → out_for_delivery → delivered | exception.
    """

    __tablename__ = "shipments"
    __table_args__ = (
        UniqueConstraint("supplier_org_id", "number"),
        Index("ix_shipments_buyer_created", "buyer_org_id", "created_at"),
        Index("ix_shipments_supplier_created", "supplier_org_id", "created_at"),
    )

    number: Mapped[str] = mapped_column(String(24))
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("purchase_orders.id"), index=True)
    order_number: Mapped[str] = mapped_column(String(20), default="")  # for the carrier, who cannot read orders
    buyer_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    supplier_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    carrier_org_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    carrier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("carriers.id"))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouses.id"))
    status: Mapped[str] = mapped_column(String(12), default="draft")
    tracking_state: Mapped[str] = mapped_column(String(20), default="pending")
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    gross_weight_kg: Mapped[Decimal | None] = mapped_column(WEIGHT)
    planned_delivery: Mapped[dt.date | None]
    note: Mapped[str | None] = mapped_column(String(1000))
    dispatched_at: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]
    received_at: Mapped[dt.datetime | None]
    created_by_user_id: Mapped[uuid.UUID | None]


class _ShipmentPart:
    """Parties of the shipment a row belongs to, repeated on the row for its RLS policy."""

    buyer_org_id: Mapped[uuid.UUID]
    supplier_org_id: Mapped[uuid.UUID]


class ShipmentLine(IdMixin, _ShipmentPart, Base):
    """How much of one order line the shipment carries."""

    __tablename__ = "shipment_lines"
    __table_args__ = (UniqueConstraint("shipment_id", "line_no"), Index("ix_shipment_lines_order_line",
                                                                         "order_line_id"))

    shipment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(SmallInteger)
    order_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order_lines.id"))
    material_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("materials.id"))
    material_code: Mapped[str] = mapped_column(String(24))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit: Mapped[str] = mapped_column(String(3))


class ShipmentPackage(IdMixin, _ShipmentPart, Base):
    """A parcel or a pallet; a parcel may sit on a pallet (``parent_id``): serials → package → pallet."""

    __tablename__ = "shipment_packages"
    __table_args__ = (UniqueConstraint("shipment_id", "label"),)

    shipment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # package | pallet
    label: Mapped[str] = mapped_column(String(40))  # printed on the parcel, e.g. SH-2026-000001-P01
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("shipment_packages.id"))
    gross_weight_kg: Mapped[Decimal | None] = mapped_column(WEIGHT)
    identifier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("identifiers.id"))
    identifier_handle: Mapped[str | None] = mapped_column(String(255), index=True)


class ShipmentItem(IdMixin, _ShipmentPart, Base):
    """A batch (lot) or a single serial number of a shipment line, packed in a package.

    A serial number is shipped once per supplier and material (the partial unique index).
    """

    __tablename__ = "shipment_items"
    __table_args__ = (
        Index("ix_shipment_items_serial_once", "supplier_org_id", "material_id", "serial", unique=True,
              postgresql_where=text("serial <> ''")),
    )

    shipment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    shipment_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shipment_lines.id", ondelete="CASCADE"))
    package_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("shipment_packages.id"))
    material_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("materials.id"))
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse_locations.id"))
    batch: Mapped[str] = mapped_column(String(40), default="")
    serial: Mapped[str] = mapped_column(String(40), default="")
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    identifier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("identifiers.id"))
    identifier_handle: Mapped[str | None] = mapped_column(String(255), index=True)


class TrackingEvent(_ShipmentPart, Base):
    """One step of the carrier's timeline (append-only); a carrier's event id is stored once."""

    __tablename__ = "tracking_events"
    __table_args__ = (UniqueConstraint("shipment_id", "external_id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    shipment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(20))
    location: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(8))  # carrier | manual
    external_id: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class FreightQuote(IdMixin, CreatedAtMixin, VersionedMixin, Base):
    """A request to one logistics provider to quote for a shipment, and its answer.

    Status: requested → quoted → awarded | lost (another quote won) | withdrawn.
    """

    __tablename__ = "freight_quotes"
    __table_args__ = (UniqueConstraint("shipment_id", "provider_org_id"),)

    shipment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    requester_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    provider_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="requested")
    pickup_from: Mapped[str] = mapped_column(String(300))
    deliver_to: Mapped[str] = mapped_column(String(300))
    gross_weight_kg: Mapped[Decimal | None] = mapped_column(WEIGHT)
    packages: Mapped[int] = mapped_column(SmallInteger, default=0)
    price: Mapped[Decimal | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    transit_days: Mapped[int | None] = mapped_column(SmallInteger)
    provider_note: Mapped[str | None] = mapped_column(String(500))
    quoted_at: Mapped[dt.datetime | None]


class GoodsReceipt(IdMixin, CreatedAtMixin, Base):
    """The buyer's receipt of one shipment (one per shipment: receiving twice is refused)."""

    __tablename__ = "goods_receipts"
    __table_args__ = (UniqueConstraint("buyer_org_id", "number"),)

    number: Mapped[str] = mapped_column(String(24))
    shipment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shipments.id"), unique=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("purchase_orders.id"), index=True)
    buyer_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    supplier_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouses.id"))
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse_locations.id"))
    inspection: Mapped[str] = mapped_column(String(12))  # passed | partial | failed
    notes: Mapped[str | None] = mapped_column(String(2000))
    photos: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)  # [{key, filename, sha256, …}]
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    received_by_user_id: Mapped[uuid.UUID | None]


class GoodsReceiptLine(IdMixin, _ShipmentPart, Base):
    """Accepted and rejected quantity of one shipment line and batch."""

    __tablename__ = "goods_receipt_lines"
    __table_args__ = (CheckConstraint("accepted >= 0 AND rejected >= 0", name="not_negative"),)

    receipt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("goods_receipts.id", ondelete="CASCADE"), index=True)
    shipment_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shipment_lines.id"))
    order_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order_lines.id"), index=True)
    material_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("materials.id"))
    batch: Mapped[str] = mapped_column(String(40), default="")
    accepted: Mapped[Decimal] = mapped_column(QUANTITY)
    rejected: Mapped[Decimal] = mapped_column(QUANTITY)
    unit: Mapped[str] = mapped_column(String(3))
    rejection_reason: Mapped[str | None] = mapped_column(String(300))
    # serial-tracked goods: the accepted serial numbers (each put away on its own), else empty
    serials: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))


class ReturnRequest(IdMixin, CreatedAtMixin, VersionedMixin, Base):
    """A return (RMA) of received goods: requested by the buyer, approved or refused by the supplier.

    Status: requested → approved → shipped → received | refused. ``lines``: ``[{receipt_line_id,
    order_line_id, material_id, batch, serials, quantity, unit}]``.
    """

    __tablename__ = "return_requests"
    __table_args__ = (UniqueConstraint("buyer_org_id", "number"),)

    number: Mapped[str] = mapped_column(String(24))
    receipt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("goods_receipts.id"), index=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("purchase_orders.id"))
    buyer_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    supplier_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    reason: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(12), default="requested")
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    supplier_note: Mapped[str | None] = mapped_column(String(1000))
    carrier_name: Mapped[str | None] = mapped_column(String(100))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None]
    shipped_at: Mapped[dt.datetime | None]
    received_at: Mapped[dt.datetime | None]


class DocumentSequence(TenantMixin, Base):
    """The last number an organization used per document kind and year (SH, GR, RMA): gapless, like orders."""

    __tablename__ = "logistics_number_sequences"

    org_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(4), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    last_number: Mapped[int]
