"""EPCIS capture and query for the caller's organization (RLS confines both to it).

Every captured event is stored once per organization (``eventID``, or its CBV event hash when it has
none) and recorded as ledger evidence carrying its event hash, in the capture's own transaction.
"""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.epcis.epc import canonical_epc
from ledger.epcis.hashing import event_hash, utc_millis
from ledger.epcis.models import StoredEpcisEvent
from ledger.epcis.schemas import EVENT_TYPES, CapturedEvent, CaptureResult, EPCISDocument
from ledger.service import record_evidence
from tradeloom.audit import Actor, record_audit
from tradeloom.errors import Conflict, Invalid, TradeloomError
from tradeloom.outbox.service import emit


class MalformedDocument(TradeloomError):
    status, default_code, title = 400, "malformed_json", "Malformed JSON"


@dataclass(frozen=True)
class EventRoles:
    """How each canonical identifier takes part in one event."""

    parent: str | None
    children: list[str]
    inputs: list[str]
    outputs: list[str]
    objects: list[str]

    @property
    def all(self) -> list[str]:
        named = [self.parent, *self.children, *self.inputs, *self.outputs, *self.objects]
        return list(dict.fromkeys(epc for epc in named if epc))


def read_document(body: bytes) -> tuple[EPCISDocument, list[dict[str, Any]]]:
    """The validated document and its events as sent (the hash is computed from what was sent)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedDocument("The request body is not valid JSON.") from exc
    try:
        document = EPCISDocument.model_validate(data)
    except ValidationError as exc:
        errors = [{"pointer": _pointer(err["loc"]), "code": err["type"], "detail": err["msg"]} for err in exc.errors()]
        raise Invalid(f"The EPCIS document is invalid: {len(errors)} problem(s).", code="epcis_invalid",
                      errors=errors) from exc
    return document, data["epcisBody"]["eventList"]


def _pointer(loc: Sequence[int | str]) -> str:
    """RFC 6901 pointer into the sent JSON (pydantic's union tags are not part of the document)."""
    parts = [str(part) for position, part in enumerate(loc)
             if not (part in EVENT_TYPES and position and isinstance(loc[position - 1], int))]
    return "/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts) if parts else ""


def _classes(quantities: Sequence[dict[str, Any]] | None) -> list[str]:
    return [canonical_epc(q["epcClass"]) for q in quantities or []]


def event_roles(event: dict[str, Any]) -> EventRoles:
    def epcs(key: str) -> list[str]:
        return [canonical_epc(epc) for epc in event.get(key) or []]

    return EventRoles(
        parent=canonical_epc(event["parentID"]) if event.get("parentID") else None,
        children=epcs("childEPCs") + _classes(event.get("childQuantityList")),
        inputs=epcs("inputEPCList") + _classes(event.get("inputQuantityList")),
        outputs=epcs("outputEPCList") + _classes(event.get("outputQuantityList")),
        objects=epcs("epcList") + _classes(event.get("quantityList")),
    )


async def capture(session: AsyncSession, *, actor: Actor, body: bytes) -> CaptureResult:
    """Validate an EPCISDocument and store its events; events already captured are reported as duplicates."""
    document, events = read_document(body)
    capture_id = uuid.uuid4()
    prefixes = document.prefixes()
    captured = [await _capture_event(session, actor, capture_id, event, prefixes) for event in events]
    payload = {"capture_id": str(capture_id), "events": sum(e.status == "captured" for e in captured)}
    await emit(session, org_id=actor.org_id, topic="epcis.captured", payload=payload)
    await record_audit(session, actor=actor, action="epcis.captured", object_type="epcis_capture",
                       object_id=capture_id, details=payload)
    return CaptureResult(captureID=capture_id, eventCount=len(captured), events=captured)


async def _capture_event(
    session: AsyncSession, actor: Actor, capture_id: uuid.UUID, event: dict[str, Any], prefixes: dict[str, str]
) -> CapturedEvent:
    fingerprint = event_hash(event, prefixes)
    event_id = event.get("eventID") or fingerprint
    roles = event_roles(event)
    stored_id = await session.scalar(
        pg_insert(StoredEpcisEvent)
        .values(id=uuid.uuid4(), org_id=actor.org_id, event_id=event_id, event_type=event["type"],
                event_time=dt.datetime.fromisoformat(event["eventTime"]), action=event.get("action"),
                biz_step=event.get("bizStep"), disposition=event.get("disposition"), event_hash=fingerprint,
                parent_id=roles.parent, epcs=roles.all, child_epcs=roles.children, input_epcs=roles.inputs,
                output_epcs=roles.outputs, document=event, capture_id=capture_id)
        .on_conflict_do_nothing(index_elements=["org_id", "event_id"])
        .returning(StoredEpcisEvent.id)
    )
    if stored_id is None:
        await _check_same_event(session, event_id, fingerprint)
        return CapturedEvent(eventID=event_id, eventType=event["type"], eventHash=fingerprint, status="duplicate")
    await record_evidence(
        session, org_id=actor.org_id, kind=f"epcis.{event['type']}",
        subject=(event.get("eventID") or (roles.all or [fingerprint])[0])[:200],
        payload={"eventHash": fingerprint, "eventID": event_id, "eventTime": utc_millis(event["eventTime"]),
                 "bizStep": event.get("bizStep")},
    )
    return CapturedEvent(eventID=event_id, eventType=event["type"], eventHash=fingerprint, status="captured")


async def _check_same_event(session: AsyncSession, event_id: str, fingerprint: str) -> None:
    """A replay of the same event is harmless; the same eventID with other content is a conflict."""
    stored_hash = await session.scalar(select(StoredEpcisEvent.event_hash).where(StoredEpcisEvent.event_id == event_id))
    if stored_hash != fingerprint:
        raise Conflict(f"Event {event_id} was already captured with different content.",
                       code="epcis_event_id_conflict")


async def events_for_epc(session: AsyncSession, *, epc: str, limit: int) -> tuple[str, list[StoredEpcisEvent]]:
    """Your organization's events naming this identifier (URN or Digital Link), oldest first."""
    canonical = canonical_epc(epc)
    query = (select(StoredEpcisEvent).where(StoredEpcisEvent.epcs.contains([canonical]))
             .order_by(StoredEpcisEvent.event_time, StoredEpcisEvent.created_at).limit(limit))
    return canonical, list((await session.scalars(query)).all())
