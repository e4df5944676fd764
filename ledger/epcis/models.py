"""The ``epcis_events`` table: captured events, one row each, tenant-owned and append-only for the app role.

``epcs`` holds every identifier the event names (parent, children, inputs, outputs, quantity classes) in
canonical Digital Link form, so one GIN index answers "which events touch these items"; the role arrays
say how each identifier takes part, which is what the trace graph follows.
"""

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, CreatedAtMixin, IdMixin, TenantMixin

IdentifierArray = ARRAY(String(500))


class StoredEpcisEvent(IdMixin, CreatedAtMixin, TenantMixin, Base):
    __tablename__ = "epcis_events"
    __table_args__ = (
        UniqueConstraint("org_id", "event_id"),
        Index("ix_epcis_events_epcs", "epcs", postgresql_using="gin"),
    )

    event_id: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(32))
    event_time: Mapped[dt.datetime]
    action: Mapped[str | None] = mapped_column(String(8))
    biz_step: Mapped[str | None] = mapped_column(String(300))
    disposition: Mapped[str | None] = mapped_column(String(300))
    event_hash: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[str | None] = mapped_column(String(500))
    epcs: Mapped[list[str]] = mapped_column(IdentifierArray)
    child_epcs: Mapped[list[str]] = mapped_column(IdentifierArray)
    input_epcs: Mapped[list[str]] = mapped_column(IdentifierArray)
    output_epcs: Mapped[list[str]] = mapped_column(IdentifierArray)
    document: Mapped[dict[str, Any]] = mapped_column(JSONB)
    capture_id: Mapped[uuid.UUID]
