"""Sparkplug sessions saved in PostgreSQL with each batch (``iot_edge_sessions``), restored at start.

A bridge that restarts without them holds no births, so the QoS 1 messages the broker kept for its
persistent session while it was away would be refused as ``no_birth`` and lost — unless the edge nodes
follow the bridge's STATE (``primary_host_id``), which plain Sparkplug edge nodes need not do. Saved in the
batch's own transaction, the session (bdSeq, the next expected seq, the births as received) is exactly as
far as the stored data: the first message the broker sends again is the one the restored session expects.
"""

import base64
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import case, func, literal, select, text, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from iot_bridge.bridge.sessions import SparkplugTracker
from iot_bridge.models import EdgeSession
from iot_bridge.sparkplug import SparkplugError
from tradeloom.db import utcnow


@dataclass(frozen=True, slots=True)
class SavedBirth:
    org_id: uuid.UUID
    group_id: str
    edge_node_id: str
    device_id: str | None  # None: the node's NBIRTH
    bd_seq: int
    data: bytes


EdgeRef = tuple[uuid.UUID, str, str]  # org id, group id, edge node id

# A node's skipped seqs travel as one array literal ('{3,4}'): unnest would flatten an array of arrays.
_ADVANCE = text(
    "UPDATE iot_edge_sessions s SET expected_seq = v.seq, online = v.online, "
    "skipped_seqs = CAST(v.skipped AS smallint[]), updated_at = now() "
    "FROM unnest(CAST(:groups AS text[]), CAST(:edges AS text[]), CAST(:seqs AS int[]), CAST(:online AS bool[]), "
    "CAST(:skipped AS text[])) AS v(group_id, edge_node_id, seq, online, skipped) "
    "WHERE s.group_id = v.group_id AND s.edge_node_id = v.edge_node_id"
)


async def save(session: AsyncSession, tracker: SparkplugTracker, births: Iterable[SavedBirth],
               touched: dict[str, EdgeRef]) -> None:
    """Births in arrival order, then every touched node's expected seq, skipped seqs and liveness in one
    statement."""
    for birth in births:
        await session.execute(_birth_statement(birth))
    current = [(ref, tracker.sessions[key]) for key, ref in touched.items() if key in tracker.sessions]
    if current:
        await session.execute(_ADVANCE, {
            "groups": [ref[1] for ref, _ in current], "edges": [ref[2] for ref, _ in current],
            "seqs": [state.expected_seq for _, state in current], "online": [state.online for _, state in current],
            "skipped": ["{" + ",".join(map(str, sorted(state.skipped))) + "}" for _, state in current],
        })


def _birth_statement(birth: SavedBirth) -> Executable:
    where = (EdgeSession.group_id == birth.group_id, EdgeSession.edge_node_id == birth.edge_node_id)
    if birth.device_id is not None:
        encoded = base64.b64encode(birth.data).decode()
        return update(EdgeSession).where(*where).values(
            device_births=EdgeSession.device_births.op("||")(func.jsonb_build_object(birth.device_id, encoded)))
    values = {"bd_seq": birth.bd_seq, "expected_seq": 0, "online": True, "node_birth": birth.data,
              "device_births": {}, "skipped_seqs": [], "updated_at": utcnow()}
    # a rebirth (same bdSeq) keeps the session's device births, as the tracker does
    kept = case((EdgeSession.bd_seq == birth.bd_seq, EdgeSession.device_births), else_=literal({}, JSONB))
    return insert(EdgeSession).values(org_id=birth.org_id, group_id=birth.group_id,
                                      edge_node_id=birth.edge_node_id, **values).on_conflict_do_update(
        index_elements=[EdgeSession.group_id, EdgeSession.edge_node_id], set_=values | {"device_births": kept})


async def restore(session: AsyncSession, tracker: SparkplugTracker, owned: Callable[[str], bool]) -> int:
    """Put the saved sessions of the edge nodes this shard owns into its tracker; how many."""
    count = 0
    for row in (await session.execute(select(EdgeSession))).scalars():
        key = f"{row.group_id}/{row.edge_node_id}"
        if not owned(key):
            continue
        try:
            tracker.restore(key, bd_seq=row.bd_seq, expected_seq=row.expected_seq, online=row.online,
                            node_birth=row.node_birth,
                            device_births={code: base64.b64decode(b) for code, b in row.device_births.items()},
                            skipped=set(row.skipped_seqs))
        except SparkplugError:  # not decodable any more: the node is asked for a rebirth as if unknown
            continue
        count += 1
    return count
