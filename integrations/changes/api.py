"""``GET /api/v1/changes``: pull every event of your organization since a cursor."""

from typing import Annotated

from fastapi import Depends, Query
from pydantic import BaseModel

from integrations.changes.service import changes_after
from tradeloom.auth import Principal, requires
from tradeloom.identity.roles import Permission
from tradeloom.pagination import Cursor
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix="/api/v1/changes", tags=["integration"], route_class=TransactionalRoute)
Reader = Annotated[Principal, Depends(requires(Permission.CHANGES_READ))]


class ChangeOut(BaseModel):
    id: int
    topic: str
    payload: dict[str, object]
    created_at: str


class ChangePage(BaseModel):
    items: list[ChangeOut]
    next_cursor: str | None
    """Send it back next time; it stays the same while nothing new has happened."""


@router.get("")
async def list_changes(
    principal: Reader, session: DbSession, cursor: Cursor = None,
    types: Annotated[list[str] | None, Query(max_length=20, description="topic patterns, e.g. order.*")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ChangePage:
    """Your organization's events after the cursor, in commit-safe order; resume after an outage."""
    changes, next_cursor = await changes_after(session, cursor=cursor, topic_patterns=types, limit=limit)
    return ChangePage(items=[ChangeOut(**vars(change)) for change in changes], next_cursor=next_cursor)
