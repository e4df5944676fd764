"""The ``outbox`` table: one row per domain event, in the business transaction."""

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Identity, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import XID8, Base, TenantMixin, utcnow


class OutboxEvent(TenantMixin, Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "available_at", postgresql_where=text("dispatched_at IS NULL")),
        Index("ix_outbox_org_feed", "org_id", "tx_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    topic: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    available_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    dispatched_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None]
    # The inserting transaction: the change feed serves rows in (tx_id, id) order and only from transactions
    # older than every one still running, so a late commit can never slip in behind a reader's cursor.
    tx_id: Mapped[int] = mapped_column(XID8, server_default=text("pg_current_xact_id()"))
