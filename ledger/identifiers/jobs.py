"""RQ jobs: keep the IDIS secondary node in step with our published identifiers.

Subscribed to ``identifier.*`` outbox events (so nothing is sent for a rolled-back registration) when a node
is configured (``TRADELOOM_IDIS_NODE_URL`` and ``TRADELOOM_IDIS_NODE_TOKEN``). Idempotent: each run makes
the node hold the identifier's current values, whatever happened before.
"""

import asyncio
import uuid
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from ledger.identifiers.models import Identifier
from ledger.identifiers.secondary_node import NodeRecord, SecondaryNode, SnmsNodeClient
from tradeloom.db import make_engine, make_sessionmaker, tenant_transaction
from tradeloom.jobs import require_url
from tradeloom.settings import get_settings

TOPICS = "identifier.*"
SYNC_JOB = "ledger.identifiers.jobs.sync_identifier_to_node"
NodeOutcome = Literal["created", "updated", "unchanged", "deleted", "absent"]


async def node_record(session: AsyncSession, *, identifier_id: uuid.UUID) -> tuple[NodeRecord, bool] | None:
    """The record the node should hold for this identifier, and whether it is published."""
    identifier = await session.get(Identifier, identifier_id)
    if identifier is None:
        return None
    return NodeRecord(handle=identifier.handle, values=identifier.handle_values), identifier.published


async def push_identifier(node: SecondaryNode, record: NodeRecord, *, published: bool) -> NodeOutcome:
    """Make the node hold ``record`` if published, and nothing under its handle otherwise."""
    existing = await node.get(record.handle)
    if not published:
        if existing is None:
            return "absent"
        await node.delete(record.handle)
        return "deleted"
    if existing is None:
        await node.create(record)
        return "created"
    if list(existing.values) == list(record.values):
        return "unchanged"
    await node.update(record)
    return "updated"


def sync_identifier_to_node(event: dict[str, Any]) -> None:
    """RQ entry point for one ``identifier.*`` outbox event."""
    settings = get_settings()
    if not (settings.idis_node_url and settings.idis_node_token):
        return
    asyncio.run(_sync(event, node_url=settings.idis_node_url, token=settings.idis_node_token.get_secret_value(),
                      database_url=require_url(settings.database_url, "DATABASE_URL")))


async def _sync(event: dict[str, Any], *, node_url: str, token: str, database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with tenant_transaction(make_sessionmaker(engine), org_id=uuid.UUID(str(event["org_id"]))) as session:
            found = await node_record(session, identifier_id=uuid.UUID(str(event["payload"]["identifier_id"])))
    finally:
        await engine.dispose()
    if found is None:
        return
    node = SnmsNodeClient(node_url, token)
    try:
        await push_identifier(node, found[0], published=found[1])
    finally:
        await node.aclose()
