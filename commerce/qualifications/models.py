"""Qualification documents a buyer keeps for each of its suppliers (ISO 9001, business licence, product
certificates …), with their validity and the reminders sent as they run out.

A row belongs to the buyer (``org_id``) and is visible to the supplier it is about (``supplier_org_id``):
the supplier may upload its own documents, which wait (``pending``) until the buyer approves them.
"""

import datetime as dt
import uuid

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, CreatedAtMixin, IdMixin, TenantMixin, VersionedMixin, utcnow


class SupplierQualification(IdMixin, CreatedAtMixin, TenantMixin, VersionedMixin, Base):
    """One qualification document of one supplier, kept by one buyer."""

    __tablename__ = "supplier_qualifications"
    __table_args__ = (Index("ix_supplier_qualifications_supplier", "supplier_org_id", "valid_until"),
                      Index("ix_supplier_qualifications_due", "valid_until", "status"),
                      Index("uq_supplier_qualifications_source", "org_id", "source_system", "external_id",
                            unique=True))

    supplier_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    doc_type: Mapped[str] = mapped_column(String(32))  # iso9001, business_licence, product_certificate, …
    number: Mapped[str] = mapped_column(String(80))
    issuer: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    is_required: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(12))  # pending, approved, rejected
    submitted_by_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    review_note: Mapped[str | None] = mapped_column(String(500))
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_content_type: Mapped[str | None] = mapped_column(String(100))
    file_size_bytes: Mapped[int | None]
    source_system: Mapped[str | None] = mapped_column(String(40))  # pulled from an SRM by a connector
    external_id: Mapped[str | None] = mapped_column(String(120))
    reminded_30_at: Mapped[dt.datetime | None]  # supplier.qualification.expiring sent 30 days before
    reminded_7_at: Mapped[dt.datetime | None]  # … and 7 days before
    expired_at: Mapped[dt.datetime | None]  # supplier.qualification.expired sent
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
