"""The reorder buffer's held messages saved in PostgreSQL (``iot_held_messages``) with each batch.

Saved in the batch's transaction and only then acknowledged to the broker (``iot_bridge.bridge.reorder``), so
a restart puts them back into the buffer; deleted in the transaction that ingests them or lets them go.
"""

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from iot_bridge.bridge.reorder import HeldChanges, Message, Reorder
from iot_bridge.models import HeldMessage

_FORGET = text(
    "DELETE FROM iot_held_messages h USING unnest(CAST(:groups AS text[]), CAST(:edges AS text[]), "
    "CAST(:seqs AS int[])) AS r(group_id, edge_node_id, seq) "
    "WHERE h.group_id = r.group_id AND h.edge_node_id = r.edge_node_id AND h.seq = r.seq"
)
# The buffer never hands out a held key that is still saved; should it, the newer copy wins rather than the batch
# being refused, and so retried, forever.
_HOLD = text(
    "INSERT INTO iot_held_messages (org_id, group_id, edge_node_id, seq, topic, payload, held_at) "
    "SELECT * FROM unnest(CAST(:orgs AS uuid[]), CAST(:groups AS text[]), CAST(:edges AS text[]), "
    "CAST(:seqs AS int[]), CAST(:topics AS text[]), CAST(:payloads AS bytea[]), CAST(:times AS timestamptz[])) "
    "ON CONFLICT (group_id, edge_node_id, seq) DO UPDATE SET topic = EXCLUDED.topic, payload = EXCLUDED.payload, "
    "held_at = EXCLUDED.held_at"
)

M = TypeVar("M", bound=Message)
OrgOf = Callable[[str, str], Awaitable[uuid.UUID | None]]  # group id, edge node id → owning organization


async def save(session: AsyncSession, changes: HeldChanges[M], org_of: OrgOf, now: dt.datetime) -> None:
    """Released holds deleted, then new ones inserted (a seq can leave and come back in one batch)."""
    if changes.released:
        edges = [key.split("/", 1) for key, _ in changes.released]
        await session.execute(_FORGET, {"groups": [group for group, _ in edges], "edges": [edge for _, edge in edges],
                                        "seqs": [seq for _, seq in changes.released]})
    rows = []
    for (key, seq), message in changes.held:
        group, edge = key.split("/", 1)
        org_id = await org_of(group, edge)
        if org_id is not None:  # an unregistered node's message will be refused (unknown_edge_node): nothing to keep
            rows.append((org_id, group, edge, seq, message.topic, message.payload))
    if rows:
        orgs, groups, edges, seqs, topics, payloads = (list(column) for column in zip(*rows, strict=True))
        await session.execute(_HOLD, {"orgs": orgs, "groups": groups, "edges": edges, "seqs": seqs,
                                      "topics": topics, "payloads": payloads, "times": [now] * len(rows)})


async def restore(session: AsyncSession, reorder: Reorder[M], owned: Callable[[str], bool],
                  message: Callable[[str, bytes], M]) -> int:
    """Put the saved holds of the edge nodes this shard owns back into its buffer, oldest first; how many."""
    count = 0
    rows = await session.execute(select(HeldMessage).order_by(HeldMessage.held_at, HeldMessage.seq))
    for held in rows.scalars():
        key = f"{held.group_id}/{held.edge_node_id}"
        if owned(key):
            reorder.restore(key, held.seq, message(held.topic, held.payload))
            count += 1
    return count
