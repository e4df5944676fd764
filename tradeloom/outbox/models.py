"""The ``outbox`` table: one row per domain event, in the business transaction."""

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Identity, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, TenantMixin, utcnow


class OutboxEvent(TenantMixin, Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "available_at", postgresql_where=text("dispatched_at IS NULL")),
        Index("ix_outbox_org_feed", "org_id", "feed_position", postgresql_where=text("feed_position IS NOT NULL")),
        Index("ix_outbox_unpositioned", "id", postgresql_where=text("feed_position IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    topic: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    available_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    dispatched_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None]
    # Position in the organizations' change feed, given after commit by one sequencer at a time
    # (``tradeloom.outbox.feed``), so a late commit always lands after every position already handed out.
    feed_position: Mapped[int | None] = mapped_column(BigInteger)
