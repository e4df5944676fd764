"""One uploaded import file and what became of it: status, progress counters and the per-row report."""

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, CreatedAtMixin, IdMixin, TenantMixin, utcnow


class CatalogImport(IdMixin, CreatedAtMixin, TenantMixin, Base):
    """An import job of one organization; the file is kept so the job (and an audit) can read it again."""

    __tablename__ = "catalog_imports"

    created_by_user_id: Mapped[uuid.UUID | None]
    kind: Mapped[str] = mapped_column(String(16))  # materials, offers, price_lists
    file_format: Mapped[str] = mapped_column(String(8))  # csv, xlsx
    filename: Mapped[str] = mapped_column(String(255))
    encoding: Mapped[str | None] = mapped_column(String(16))  # csv only: utf-8, utf-8-sig, gb18030
    content: Mapped[bytes] = mapped_column(LargeBinary)
    dry_run: Mapped[bool] = mapped_column(default=False)
    # queued → running → validated (dry run passed) | succeeded | rejected (row problems) | failed
    status: Mapped[str] = mapped_column(String(16), default="queued")
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)
    created_count: Mapped[int] = mapped_column(default=0)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
