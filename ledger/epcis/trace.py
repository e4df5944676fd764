"""Trace graph of one item across organizations, showing each viewer only what it may see.

From the start identifier the graph walks **upstream** (what it was made of: the inputs of the
TransformationEvents that output it, the children of the Aggregation/AssociationEvents it is the parent of)
and **downstream** (what it became: outputs of transformations it went into, the packages/pallets it was
aggregated into), breadth first, up to ``MAX_DEPTH`` steps and ``MAX_NODES`` identifiers each way.
Object and Transaction events (shipping, receiving, …) on any node of the graph are listed with it.

Events of every organization are found through ``tl_epcis_links`` (SECURITY DEFINER), which returns only
public facts: type, time, action, bizStep, disposition, event hash, recording organization and the
identifiers linking the event into the graph. The viewer's own events come back in full (read under RLS);
other organizations' events never show where (readPoint, bizLocation), with whom (source/destination,
bizTransactions), how many, sensor data, ILMD or extensions.
"""

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.epcis.epc import canonical_epc
from ledger.epcis.models import StoredEpcisEvent
from ledger.identifiers.service import published_by_handle
from tradeloom.errors import NotFound

MAX_DEPTH, MAX_NODES = 8, 200
Direction = Literal["upstream", "downstream"]
_GROUPING = frozenset({"AggregationEvent", "AssociationEvent"})
_LINKS = text(
    "SELECT id, org_id, org_name, event_type, event_time, action, biz_step, disposition, event_hash, parent_id,"
    " child_epcs, input_epcs, output_epcs, epcs FROM tl_epcis_links(:epcs)"
)


@dataclass(frozen=True)
class EventLink:
    """The public facts of one event, as ``tl_epcis_links`` returns them."""

    id: uuid.UUID
    org_id: uuid.UUID
    org_name: str
    event_type: str
    event_time: dt.datetime
    action: str | None
    biz_step: str | None
    disposition: str | None
    event_hash: str
    parent_id: str | None
    child_epcs: list[str]
    input_epcs: list[str]
    output_epcs: list[str]
    epcs: list[str]

    def neighbours(self, node: str, direction: Direction) -> list[tuple[str, str, str]]:
        """(from, to, relation) edges leading from ``node`` one step in ``direction``."""
        if self.event_type == "TransformationEvent":
            if direction == "upstream" and node in self.output_epcs:
                return [(source, node, "transformed_into") for source in self.input_epcs]
            if direction == "downstream" and node in self.input_epcs:
                return [(node, target, "transformed_into") for target in self.output_epcs]
        if self.event_type in _GROUPING and self.action != "DELETE" and self.parent_id:
            relation = "packed_into" if self.event_type == "AggregationEvent" else "associated_with"
            if direction == "upstream" and node == self.parent_id:
                return [(child, node, relation) for child in self.child_epcs]
            if direction == "downstream" and node in self.child_epcs:
                return [(node, self.parent_id, relation)]
        return []


async def start_identifier(session: AsyncSession, identifier: str) -> str:
    """A handle (``88.118.8866/…``) traces as its GS1 item; anything else as an EPC URN or Digital Link."""
    if ":" in identifier:
        return canonical_epc(identifier)
    published = await published_by_handle(session, handle=identifier)
    if published is None or published.digital_link is None:
        raise NotFound("No published identifier with a GS1 key has this handle.", code="trace_start_unknown")
    return published.digital_link.canonical_epc


async def public_events(session: AsyncSession, epcs: Iterable[str]) -> list[EventLink]:
    """The public facts of every event naming one of ``epcs``, oldest first (any organization's)."""
    rows = await session.execute(_LINKS, {"epcs": list(epcs)})
    return [EventLink(**row._mapping) for row in rows]


async def _walk(session: AsyncSession, start: str, direction: Direction,
                events: dict[uuid.UUID, EventLink]) -> tuple[list[str], list[dict[str, Any]]]:
    seen, frontier, edges = {start}, {start}, []
    for _ in range(MAX_DEPTH):
        if not frontier or len(seen) >= MAX_NODES:
            break
        found: set[str] = set()
        for link in await public_events(session, frontier):
            events[link.id] = link
            for node in frontier:
                for source, target, relation in link.neighbours(node, direction):
                    edges.append({"from": source, "to": target, "relation": relation, "event": str(link.id)})
                    found.add(source if direction == "upstream" else target)
        frontier = found - seen
        seen |= frontier
    return sorted(seen - {start}), edges


async def trace(session: AsyncSession, *, identifier: str, viewer_org_id: uuid.UUID | None) -> dict[str, Any]:
    """The item's graph: nodes, edges, and the events behind them (full for the viewer's own)."""
    start = await start_identifier(session, identifier)
    events: dict[uuid.UUID, EventLink] = {}
    upstream, up_edges = await _walk(session, start, "upstream", events)
    downstream, down_edges = await _walk(session, start, "downstream", events)
    own = await _own_documents(session, [e.id for e in events.values() if e.org_id == viewer_org_id])
    nodes = [{"id": start, "role": "start"}] + [{"id": n, "role": "upstream"} for n in upstream] + \
        [{"id": n, "role": "downstream"} for n in downstream]
    return {
        "identifier": start, "nodes": nodes, "edges": _unique(up_edges + down_edges),
        "events": [_event_view(e, own.get(e.id)) for e in sorted(events.values(), key=lambda e: e.event_time)],
    }


async def _own_documents(session: AsyncSession, event_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """Full documents of the viewer's own events, read under RLS (another org's rows are invisible here)."""
    if not event_ids:
        return {}
    rows = await session.execute(select(StoredEpcisEvent.id, StoredEpcisEvent.document)
                                 .where(StoredEpcisEvent.id.in_(event_ids)))
    return {row.id: row.document for row in rows}


def _event_view(link: EventLink, document: dict[str, Any] | None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": str(link.id), "eventType": link.event_type, "eventTime": link.event_time.isoformat(),
        "action": link.action, "bizStep": link.biz_step, "disposition": link.disposition,
        "eventHash": link.event_hash, "recordedBy": {"orgId": str(link.org_id), "name": link.org_name},
        "visibility": "full" if document is not None else "public",
    }
    if document is not None:
        view["event"] = document
    return view


def _unique(edges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list({(e["from"], e["to"], e["relation"], e["event"]): e for e in edges}.values())
