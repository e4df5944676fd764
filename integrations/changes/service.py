"""The change feed: an organization's events from the outbox, ordered, gap-free and resumable.

Events are served by their feed position, which the outbox sequencer hands out after commit
(``tradeloom.outbox.feed``): a position once seen by a reader is never followed by a smaller one, so an ERP
that pulls with its last cursor after an outage gets exactly what it missed, nothing twice.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tradeloom.errors import Invalid
from tradeloom.pagination import decode_cursor, encode_cursor

_FEED = text("""
    SELECT id, topic, payload, created_at, feed_position
    FROM outbox
    WHERE feed_position > :after
      AND (CAST(:topics AS text[]) IS NULL OR topic LIKE ANY (CAST(:topics AS text[])))
    ORDER BY feed_position
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
    (after,) = decode_cursor(cursor, arity=1) if cursor else (0,)
    patterns = [_like(pattern) for pattern in topic_patterns] if topic_patterns else None
    if not isinstance(after, int):
        raise Invalid("The cursor is not one this API returned.", code="cursor_invalid")
    rows = (await session.execute(_FEED, {"after": after, "topics": patterns, "limit": limit})).all()
    changes = [Change(id=row.id, topic=row.topic, payload=row.payload, created_at=row.created_at.isoformat())
               for row in rows]
    next_cursor = encode_cursor(rows[-1].feed_position) if rows else cursor
    return changes, next_cursor
