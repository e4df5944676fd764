"""Catalogue tables: the class tree, materials (the unified code library), offers, prices.

Materials are shared master data: every member organization reads them; the owning organization (or a
platform admin) changes them. Offers are public listings of one supplier; price lists are private between
a supplier and one buyer. Row-level security says exactly that (migration 0006).
"""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Identity, Index, Numeric, SmallInteger, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, CreatedAtMixin, IdMixin, TenantMixin, VersionedMixin, utcnow

QUANTITY = Numeric(18, 6)  # quantities (e.g. 0.125 TNE) need more places than money


class MaterialClass(Base):
    __tablename__ = "material_classes"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("material_classes.code"), index=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    unspsc: Mapped[str | None] = mapped_column(String(8))
    eclass: Mapped[str | None] = mapped_column(String(16))
    gbt7635: Mapped[str | None] = mapped_column(String(32))
    attribute_template: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)  # leaves only
    is_leaf: Mapped[bool] = mapped_column(default=False)
    next_sequence: Mapped[int] = mapped_column(default=1)


class Material(IdMixin, CreatedAtMixin, VersionedMixin, Base):
    __tablename__ = "materials"
    __table_args__ = (
        Index("ix_materials_search_vector", "search_vector", postgresql_using="gin",
              postgresql_with={"fastupdate": "off"}),
        Index("ix_materials_class_status", "class_code", "status"),
    )

    code: Mapped[str] = mapped_column(String(24), unique=True)
    class_code: Mapped[str] = mapped_column(ForeignKey("material_classes.code"))
    owner_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    name_zh: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    base_unit: Mapped[str] = mapped_column(String(3))
    pack_sizes: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"BX": "100"}: 1 BX = 100 base units
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft → active → blocked → retired
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("materials.id"))
    search_vector: Mapped[str | None] = mapped_column(TSVECTOR)
    quality_score: Mapped[int | None] = mapped_column(SmallInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MaterialVersion(Base):
    """A snapshot of a material after each change (append-only history)."""

    __tablename__ = "material_versions"
    __table_args__ = (UniqueConstraint("material_id", "version"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    material_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("materials.id"), index=True)
    version: Mapped[int]
    snapshot: Mapped[dict[str, Any]]
    changed_by_org_id: Mapped[uuid.UUID]
    changed_by_user_id: Mapped[uuid.UUID | None]
    change: Mapped[str] = mapped_column(String(32))  # created, updated, status:active, merged …
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class MaterialAttachment(IdMixin, CreatedAtMixin, TenantMixin, Base):
    """A spec sheet, drawing or certificate; the file lives in storage, we keep its SHA-256."""

    __tablename__ = "material_attachments"

    material_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("materials.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # spec, drawing, certificate, photo
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(300))
    is_public: Mapped[bool] = mapped_column(default=True)


class SupplierOffer(IdMixin, CreatedAtMixin, TenantMixin, VersionedMixin, Base):
    """A supplier's listing of a material under its own part number (``org_id`` is the supplier)."""

    __tablename__ = "supplier_offers"
    __table_args__ = (UniqueConstraint("org_id", "supplier_part_number"),)

    material_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("materials.id"), index=True)
    supplier_part_number: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    order_unit: Mapped[str] = mapped_column(String(3))
    moq: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal(1))
    pack_size: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal(1))
    lead_time_days: Mapped[int] = mapped_column(default=7)
    incoterm: Mapped[str] = mapped_column(String(3), default="EXW")
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active, paused, withdrawn


class OfferPriceTier(TenantMixin, Base):
    """Price break: from ``min_quantity`` (in the offer's order unit) the unit price is ``unit_price``."""

    __tablename__ = "offer_price_tiers"
    __table_args__ = (UniqueConstraint("offer_id", "min_quantity"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    offer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supplier_offers.id", ondelete="CASCADE"), index=True)
    min_quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit_price: Mapped[Decimal]


class OfferStock(TenantMixin, Base):
    """Quantity available for an offer at one of the supplier's sites (fed by logistics later)."""

    __tablename__ = "offer_stock"

    offer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supplier_offers.id", ondelete="CASCADE"),
                                                primary_key=True)
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PriceList(IdMixin, CreatedAtMixin, TenantMixin, VersionedMixin, Base):
    """Prices a supplier (``org_id``) grants one buyer: negotiated (``customer``) or from a ``contract``."""

    __tablename__ = "price_lists"

    buyer_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="customer")
    currency: Mapped[str] = mapped_column(String(3))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(100))  # e.g. contract:<id>


class PriceListLine(TenantMixin, Base):
    __tablename__ = "price_list_lines"
    __table_args__ = (UniqueConstraint("price_list_id", "material_id", "min_quantity"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    price_list_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("price_lists.id", ondelete="CASCADE"), index=True)
    buyer_org_id: Mapped[uuid.UUID] = mapped_column(index=True)  # copied from the list, for the read policy
    material_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("materials.id"), index=True)
    min_quantity: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal(0))
    unit_price: Mapped[Decimal]
