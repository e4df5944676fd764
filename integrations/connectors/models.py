"""Connectors to an organization's ERP/CRM/SRM, their sync state, and the error queue of each."""

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, CreatedAtMixin, IdMixin, TenantMixin, VersionedMixin, utcnow


class Connector(IdMixin, CreatedAtMixin, TenantMixin, VersionedMixin, Base):
    """One ERP of one organization: which profile speaks to it, where, as whom, and the field mapping."""

    __tablename__ = "connectors"
    __table_args__ = (Index("uq_connectors_name", "org_id", "name", unique=True),)

    name: Mapped[str] = mapped_column(String(40))  # also the source_system of its external ids
    profile: Mapped[str] = mapped_column(String(32))  # sap_s4hana, odoo, kingdee_k3cloud, yonyou_u8, salesforce
    base_url: Mapped[str] = mapped_column(String(500))
    credentials: Mapped[dict[str, Any]] = mapped_column(default=dict)  # write-only through the API
    mapping_yaml: Mapped[str] = mapped_column(Text)
    schedule_minutes: Mapped[int | None]  # None: pulled only on demand
    is_active: Mapped[bool] = mapped_column(default=True)
    next_sync_at: Mapped[dt.datetime | None]
    last_sync_at: Mapped[dt.datetime | None]
    last_status: Mapped[str | None] = mapped_column(String(16))  # succeeded, partial, failed
    last_summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    consecutive_failures: Mapped[int] = mapped_column(default=0)


class ConnectorError(IdMixin, TenantMixin, Base):
    """One thing a sync could not do: their system failed (``fetch``), a record would not map (``map``) or
    was refused by us (``record``). Open until a later sync gets the record through, or someone dismisses it."""

    __tablename__ = "connector_errors"
    __table_args__ = (Index("ix_connector_errors_open", "connector_id", "status", "created_at"),)

    connector_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(8))  # fetch, map, record
    kind: Mapped[str | None] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(120))
    code: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(12), default="open")  # open, resolved, dismissed
    occurrences: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ConnectorPush(IdMixin, CreatedAtMixin, TenantMixin, Base):
    """One of our documents to be sent to (or sent to) one connector's system: once per document and kind.

    ``pending`` waits for its next attempt (``next_attempt_at``, backing off while their system fails);
    ``sent`` carries their key (also recorded in the external ids); ``failed`` was refused, or gave up after
    the last attempt, and sits in the error queue until someone retries it.
    """

    __tablename__ = "connector_pushes"
    __table_args__ = (
        Index("uq_connector_pushes_document", "connector_id", "kind", "object_id", unique=True),
        Index("ix_connector_pushes_due", "status", "next_attempt_at"),
    )

    connector_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # purchase_order, invoice
    object_id: Mapped[uuid.UUID]
    document_number: Mapped[str] = mapped_column(String(40))
    topic: Mapped[str] = mapped_column(String(64))  # the event that queued it
    status: Mapped[str] = mapped_column(String(8), default="pending")  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime | None]
    external_id: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(String(1000))
    sent_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
