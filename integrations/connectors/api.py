"""``/api/v1/connectors``: set up ERP connectors, test them, pull now, read sync state and the error queue."""

import uuid
from typing import Annotated, Literal

from fastapi import Depends, Request, Response

from integrations.bulk.api import job_url
from integrations.bulk.schemas import BulkJobOut
from integrations.connectors import inbound, push, service
from integrations.connectors.clients import CLIENTS
from integrations.connectors.mapping import alternative_mappings, profile_mapping
from integrations.connectors.schemas import (
    ConnectionCheckOut,
    ConnectorErrorOut,
    ConnectorIn,
    ConnectorOut,
    ConnectorPushesOut,
    ConnectorPushOut,
    ProfileOut,
)
from integrations.connectors.service import CallOptions
from tradeloom.auth import Principal, requires
from tradeloom.concurrency import ExpectedVersion, set_etag
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix="/api/v1/connectors", tags=["connectors"], route_class=TransactionalRoute)
Manager = Annotated[Principal, Depends(requires(Permission.INTEGRATION_MANAGE))]


def call_options(request: Request) -> CallOptions:
    return CallOptions.from_settings(request.app.state.settings)


@router.get("/profiles")
async def list_profiles(principal: Manager) -> list[ProfileOut]:
    """The shipped profiles with their starting mapping."""
    return [ProfileOut(profile=profile, mapping_yaml=profile_mapping(profile),
                       alternatives=alternative_mappings(profile)) for profile in sorted(CLIENTS)]


@router.post("", status_code=201)
async def create_connector(body: ConnectorIn, request: Request, principal: Manager, session: DbSession,
                           response: Response, _key: Idempotent) -> ConnectorOut:
    """Set up a connector; a mapping that does not follow the rules is 422 naming the fault."""
    connector = await service.create_connector(session, actor=principal.actor, fields=body,
                                               options=call_options(request))
    set_etag(response, connector.version)
    return ConnectorOut.model_validate(connector)


@router.get("")
async def list_connectors(principal: Manager, session: DbSession) -> list[ConnectorOut]:
    """Your connectors with their sync state."""
    return [ConnectorOut.model_validate(c) for c in await service.list_connectors(session)]


@router.get("/{connector_id}")
async def get_connector(connector_id: uuid.UUID, principal: Manager, session: DbSession,
                        response: Response) -> ConnectorOut:
    """One connector and the summary of its last sync."""
    connector = await service.get_connector(session, connector_id=connector_id)
    set_etag(response, connector.version)
    return ConnectorOut.model_validate(connector)


@router.put("/{connector_id}")
async def update_connector(connector_id: uuid.UUID, body: ConnectorIn, request: Request, principal: Manager,
                           session: DbSession, response: Response,
                           expected_version: ExpectedVersion) -> ConnectorOut:
    """Replace a connector's settings (If-Match); without ``credentials`` the stored ones are kept."""
    connector = await service.update_connector(
        session, actor=principal.actor, connector_id=connector_id, expected_version=expected_version,
        fields=body, options=call_options(request))
    set_etag(response, connector.version)
    return ConnectorOut.model_validate(connector)


@router.post("/{connector_id}/test")
async def test_connection(connector_id: uuid.UUID, request: Request, principal: Manager,
                          session: DbSession) -> ConnectionCheckOut:
    """Sign in to the ERP and make one harmless call; ``ok`` false says what went wrong."""
    check = await service.test_connection(session, connector_id=connector_id, options=call_options(request))
    return ConnectionCheckOut(ok=check.ok, message=check.message)


@router.post("/{connector_id}/sync", status_code=202)
async def sync_now(connector_id: uuid.UUID, principal: Manager, session: DbSession,
                   _key: Idempotent) -> ConnectorOut:
    """Queue a pull now (202); follow it on the connector's ``last_sync_at`` / ``last_summary``."""
    return ConnectorOut.model_validate(
        await service.request_sync(session, actor=principal.actor, connector_id=connector_id))


@router.post("/{connector_id}/idoc", status_code=202, openapi_extra={"requestBody": {"required": True, "content": {
    "application/xml": {"schema": {"type": "string", "description": "IDoc XML, e.g. <ORDERS05><IDOC BEGIN=\"1\">…"}}}}})
async def receive_idoc(connector_id: uuid.UUID, request: Request, principal: Manager, session: DbSession,
                       response: Response, _key: Idempotent) -> BulkJobOut:
    """SAP sends IDocs (ORDERS05 XML): mapped by the connector's IDoc pull and queued as a bulk job (202)."""
    principal.require(Permission.ORDER_CREATE)
    job = await inbound.receive_idoc(session, actor=principal.actor, connector_id=connector_id,
                                     xml=await request.body())
    response.headers["Location"] = job_url(job)
    return BulkJobOut.model_validate(job).model_copy(update={"url": job_url(job)})


@router.get("/{connector_id}/errors")
async def list_errors(connector_id: uuid.UUID, principal: Manager, session: DbSession,
                      status: Literal["open", "resolved", "dismissed"] | None = "open") -> list[ConnectorErrorOut]:
    """The connector's error queue (open ones by default), newest first."""
    await service.get_connector(session, connector_id=connector_id)
    return [ConnectorErrorOut.model_validate(e)
            for e in await service.list_errors(session, connector_id=connector_id, status=status)]


@router.post("/errors/{error_id}/dismiss")
async def dismiss_error(error_id: uuid.UUID, principal: Manager, session: DbSession) -> ConnectorErrorOut:
    """Take an error off the open queue."""
    return ConnectorErrorOut.model_validate(
        await service.dismiss_error(session, actor=principal.actor, error_id=error_id))


@router.post("/errors/{error_id}/retry", status_code=202)
async def retry_error(error_id: uuid.UUID, principal: Manager, session: DbSession,
                      _key: Idempotent) -> ConnectorErrorOut:
    """Retry what failed: a push error sends its document again, any other error pulls again (202)."""
    return ConnectorErrorOut.model_validate(await push.retry_error(session, actor=principal.actor, error_id=error_id))


@router.get("/{connector_id}/pushes")
async def list_pushes(connector_id: uuid.UUID, principal: Manager, session: DbSession,
                      status: Literal["pending", "sent", "failed"] | None = None) -> ConnectorPushesOut:
    """Our documents sent (or to be sent) to the ERP, newest first, with the counts per status."""
    await service.get_connector(session, connector_id=connector_id)
    return ConnectorPushesOut(
        counts=await push.push_counts(session, connector_id=connector_id),
        pushes=[ConnectorPushOut.model_validate(p)
                for p in await push.list_pushes(session, connector_id=connector_id, status=status)])


@router.post("/pushes/{push_id}/retry", status_code=202)
async def retry_push(push_id: uuid.UUID, principal: Manager, session: DbSession,
                     _key: Idempotent) -> ConnectorPushOut:
    """Send a failed or waiting document again now (202); one already sent is 409 ``connector_push_sent``."""
    return ConnectorPushOut.model_validate(await push.retry_push(session, actor=principal.actor, push_id=push_id))
