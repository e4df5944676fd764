"""The change feed: an organization's events from the outbox, ordered, gap-free and resumable.

Rows are served in (inserting transaction id, event id) order and only from transactions older than every
transaction still running (``pg_snapshot_xmin``). Event ids alone are not enough: a transaction that took
id 10 may commit after one that took id 11, and a reader that had moved past 11 would never see 10. With
the snapshot horizon, everything behind a cursor is final, so an ERP that pulls with its last cursor after
an outage gets exactly what it missed.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tradeloom.pagination import decode_cursor, encode_cursor

_FEED = text("""
    SELECT id, topic, payload, created_at, tx_id::text AS tx_id
    FROM outbox
    WHERE (tx_id, id) > (CAST(:after_tx AS xid8), :after_id)
      AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
      AND (CAST(:topics AS text[]) IS NULL OR topic LIKE ANY (CAST(:topics AS text[])))
    ORDER BY tx_id, id
    LIMIT :limit
""")


def _like(topic_pattern: str) -> str:
    """``order.*`` → ``order.%`` with LIKE's own wildcards escaped (topics contain ``_``)."""
    escaped = topic_pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


@dataclass(frozen=True)
class Change:
    id: int
    topic: str
    payload: dict[str, Any]
    created_at: str


async def changes_after(
    session: AsyncSession, *, cursor: str | None, topic_patterns: list[str] | None, limit: int
) -> tuple[list[Change], str | None]:
    """Up to ``limit`` changes after ``cursor`` and the cursor to continue from (the same one if none)."""
    after_tx, after_id = decode_cursor(cursor, arity=2) if cursor else ("0", 0)
    patterns = [_like(pattern) for pattern in topic_patterns] if topic_patterns else None
    rows = (await session.execute(_FEED, {"after_tx": str(after_tx), "after_id": int(after_id),
                                          "topics": patterns, "limit": limit})).all()
    changes = [Change(id=row.id, topic=row.topic, payload=row.payload, created_at=row.created_at.isoformat())
               for row in rows]
    next_cursor = encode_cursor(rows[-1].tx_id, rows[-1].id) if rows else cursor
    return changes, next_cursor
