"""Append-only audit log: who did what to which object, when and from where.

The app role has INSERT and SELECT only on ``audit_log``; no request can rewrite history.
"""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from sqlalchemy import BigInteger, Identity, String, select
from sqlalchemy.dialects.postgresql import INET
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, TenantMixin, insert_rows, utcnow
from tradeloom.observability import client_ip_var, request_id_var


@dataclass(frozen=True)
class Actor:
    """Who acts: a user, an API key of the org, or the platform itself (both None)."""

    org_id: uuid.UUID
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None


class AuditEntry(TenantMixin, Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_user_id: Mapped[uuid.UUID | None]
    actor_api_key_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    client_ip: Mapped[IPv4Address | IPv6Address | None] = mapped_column(INET)
    request_id: Mapped[str | None] = mapped_column(String(64))


@dataclass(frozen=True)
class AuditNote:
    """One entry to append: what was done to which object."""

    action: str
    object_type: str
    object_id: object
    details: dict[str, Any] | None = None


async def record_audit(
    session: AsyncSession, *, actor: Actor, action: str, object_type: str, object_id: object,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one entry in the caller's transaction (request id and client address from the request)."""
    await record_audits(session, actor=actor, notes=[AuditNote(action, object_type, object_id, details)])


async def record_audits(session: AsyncSession, *, actor: Actor, notes: Sequence[AuditNote]) -> None:
    """Append several entries of one request as one INSERT, in this order."""
    at, client_ip, request_id = utcnow(), client_ip_var.get(), request_id_var.get()
    await insert_rows(session, AuditEntry, [
        {"org_id": actor.org_id, "actor_user_id": actor.user_id, "actor_api_key_id": actor.api_key_id,
         "action": note.action, "object_type": note.object_type, "object_id": str(note.object_id),
         "details": note.details or {}, "client_ip": client_ip, "request_id": request_id, "at": at}
        for note in notes
    ])


async def audit_trail(
    session: AsyncSession, *, object_type: str | None = None, object_id: str | None = None,
    before_id: int | None = None, limit: int = 50,
) -> list[AuditEntry]:
    """The tenant's entries, newest first, optionally for one object; ``before_id`` pages back."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id:
        query = query.where(AuditEntry.object_id == object_id)
    if before_id:
        query = query.where(AuditEntry.id < before_id)
    return list((await session.scalars(query)).all())
