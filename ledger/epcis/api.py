"""``/api/v1/epcis``: capture EPCIS 2.0 documents and query your events; ``/api/v1/trace``: an item's graph."""

from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from ledger.epcis import service, trace
from ledger.epcis.schemas import CaptureResult, EPCISDocument, EventPage, StoredEvent
from tradeloom.auth import Principal, requires
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix="/api/v1/epcis", tags=["epcis"], route_class=TransactionalRoute)
trace_router = PrefixedRouter(prefix="/api/v1/trace", tags=["epcis"], route_class=TransactionalRoute)
Capturer = Annotated[Principal, Depends(requires(Permission.EPCIS_CAPTURE))]
Reader = Annotated[Principal, Depends(requires(Permission.LEDGER_READ))]
_DOCUMENT_BODY = {"requestBody": {"required": True, "content": {
    "application/ld+json": {"schema": EPCISDocument.model_json_schema(by_alias=True)},
    "application/json": {"schema": EPCISDocument.model_json_schema(by_alias=True)},
}}}


@router.post("/capture", status_code=201, openapi_extra=_DOCUMENT_BODY)
async def capture(request: Request, principal: Capturer, session: DbSession, response: Response,
                  _key: Idempotent) -> CaptureResult:
    """Capture an EPCISDocument (JSON-LD); each new event is stored and recorded as ledger evidence."""
    result = await service.capture(session, actor=principal.actor, body=await request.body())
    response.headers["Location"] = f"{router.prefix}/capture/{result.captureID}"
    return result


@router.get("/events")
async def events(
    principal: Reader, session: DbSession,
    epc: Annotated[str, Query(min_length=3, max_length=500, description="EPC URN or GS1 Digital Link URI")],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> EventPage:
    """Your organization's events naming this identifier, oldest first."""
    canonical, stored = await service.events_for_epc(session, epc=epc, limit=limit)
    return EventPage(epc=canonical, items=[
        StoredEvent(eventID=e.event_id, eventType=e.event_type, eventTime=e.event_time, eventHash=e.event_hash,
                    event=e.document | {"recordTime": e.created_at.isoformat()})
        for e in stored
    ])


@trace_router.get("/{identifier:path}")
async def trace_graph(identifier: str, principal: Reader, session: DbSession) -> dict[str, Any]:
    """The item's upstream and downstream graph across organizations (others' events as public facts)."""
    return await trace.trace(session, identifier=identifier, viewer_org_id=principal.org_id)
