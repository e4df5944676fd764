"""Emit domain events: a row in ``outbox`` in the caller's transaction, nothing sent before commit."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from tradeloom.db import insert_rows, utcnow
from tradeloom.outbox.models import OutboxEvent

_OUTBOX_INSERT = insert(OutboxEvent)


def _event(*, org_id: uuid.UUID, topic: str, payload: dict[str, Any]) -> Insert:
    now = utcnow()
    return _OUTBOX_INSERT.values(org_id=org_id, topic=topic, payload=payload, created_at=now, available_at=now)


async def emit_many(session: AsyncSession, *, org_id: uuid.UUID, events: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Queue several ``(topic, payload)`` events of one transaction as one INSERT, delivered in this order."""
    now = utcnow()
    await insert_rows(session, OutboxEvent, [
        {"org_id": org_id, "topic": topic, "payload": payload, "created_at": now, "available_at": now}
        for topic, payload in events
    ])


async def emit(session: AsyncSession, *, org_id: uuid.UUID, topic: str, payload: dict[str, Any]) -> None:
    """Queue ``topic`` (e.g. ``order.placed``) for delivery once this transaction commits."""
    await session.execute(_event(org_id=org_id, topic=topic, payload=payload))


def emit_on(conn: Connection | Session, *, org_id: uuid.UUID, topic: str, payload: dict[str, Any]) -> None:
    """The same on a synchronous connection or session: platform loops (ledger sequencer) and RQ jobs."""
    conn.execute(_event(org_id=org_id, topic=topic, payload=payload))
