"""A bulk request of an ERP (up to 10,000 records of one kind) and its per-record result report."""

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, CreatedAtMixin, IdMixin, TenantMixin, utcnow


class BulkJob(IdMixin, CreatedAtMixin, TenantMixin, Base):
    """The records are kept as sent, so the job (and an audit) can read them again."""

    __tablename__ = "integration_bulk_jobs"

    created_by_user_id: Mapped[uuid.UUID | None]
    kind: Mapped[str] = mapped_column(String(16))  # materials, offers, price_lists, orders
    source_system: Mapped[str] = mapped_column(String(40))
    records: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    # queued → running → succeeded (every record has a result) | failed (nothing was stored)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    total_records: Mapped[int] = mapped_column(default=0)
    processed_records: Mapped[int] = mapped_column(default=0)
    created_count: Mapped[int] = mapped_column(default=0)
    existing_count: Mapped[int] = mapped_column(default=0)
    rejected_count: Mapped[int] = mapped_column(default=0)
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    error: Mapped[str | None] = mapped_column(String(500))
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
