"""``/api/v1/edi``: EDI partners, interchange upload (inbound) and download (outbound), the message log."""

import uuid
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from integrations.edi import service, sscc
from integrations.edi.inbound import receive_interchange
from integrations.edi.schemas import (
    Gs1PrefixIn,
    Gs1PrefixOut,
    InterchangeOut,
    MessageOutcomeOut,
    PartnerIn,
    PartnerOut,
    ReceivedOut,
)
from tradeloom.auth import Principal, requires
from tradeloom.concurrency import ExpectedVersion, set_etag
from tradeloom.errors import Invalid, NotFound, problem_response
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix="/api/v1/edi", tags=["edi"], route_class=TransactionalRoute)
Manager = Annotated[Principal, Depends(requires(Permission.INTEGRATION_MANAGE))]
Orderer = Annotated[Principal, Depends(requires(Permission.ORDER_CREATE))]
EDIFACT = "application/EDIFACT"
_UPLOAD_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    EDIFACT: {"schema": {"type": "string"}, "example": "UNA:+.? 'UNB+UNOC:3+4012345000009:14+TRADELOOM:ZZZ+"
                                                         "261125:0930+1001'UNH+1+ORDERS:D:96A:UN'…'UNZ+1+1001'"},
    "text/plain": {"schema": {"type": "string"}}}}}


def _fields(body: PartnerIn) -> service.PartnerFields:
    return service.PartnerFields(**body.model_dump(exclude={"messages"}), messages=tuple(body.messages))


@router.post("/partners", status_code=201)
async def create_partner(body: PartnerIn, principal: Manager, session: DbSession, response: Response,
                         _key: Idempotent) -> PartnerOut:
    """Set up an EDI partner: its UNB identity, ours, the directory and the messages exchanged."""
    partner = await service.create_partner(session, actor=principal.actor, fields=_fields(body))
    set_etag(response, partner.version)
    return PartnerOut.model_validate(partner)


@router.get("/partners")
async def list_partners(principal: Manager, session: DbSession) -> list[PartnerOut]:
    """Your organization's EDI partners."""
    return [PartnerOut.model_validate(p) for p in await service.list_partners(session)]


@router.get("/partners/{partner_id}")
async def get_partner(partner_id: uuid.UUID, principal: Manager, session: DbSession, response: Response) -> PartnerOut:
    """One partner."""
    partner = await service.get_partner(session, partner_id=partner_id)
    set_etag(response, partner.version)
    return PartnerOut.model_validate(partner)


@router.put("/partners/{partner_id}")
async def update_partner(partner_id: uuid.UUID, body: PartnerIn, principal: Manager, session: DbSession,
                         response: Response, expected_version: ExpectedVersion) -> PartnerOut:
    """Replace a partner's settings (If-Match)."""
    partner = await service.update_partner(session, actor=principal.actor, partner_id=partner_id,
                                           expected_version=expected_version, fields=_fields(body))
    set_etag(response, partner.version)
    return PartnerOut.model_validate(partner)


async def _interchange_text(request: Request) -> str:
    try:
        return (await request.body()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid("The interchange must be UTF-8 (or ASCII/Latin-1 within UTF-8) text.",
                      code="edi_encoding_invalid") from exc


@router.post("/interchanges", status_code=201, openapi_extra=_UPLOAD_BODY, response_model=ReceivedOut)
async def upload_interchange(request: Request, principal: Orderer, session: DbSession, _key: Idempotent,
                             filename: Annotated[str | None, Query(max_length=200)] = None) -> Any:
    """Upload one interchange (raw EDIFACT). ORDERS messages become purchase orders, each accepted or rejected
    with its reason; a syntax error is 422 ``edi_syntax_error`` with the CONTRL we queued for the partner."""
    result = await receive_interchange(session, actor=principal.actor, text=await _interchange_text(request),
                                       filename=filename)
    if result.syntax_error is not None:
        error = result.syntax_error
        return problem_response(status=422, code="edi_syntax_error", title="EDIFACT syntax error",
                                detail=error.detail, errors=[{"syntax_error_code": error.code,
                                                              "contrl_interchange_id": str(result.interchange.id)}])
    return ReceivedOut(interchange=InterchangeOut.model_validate(result.interchange),
                       messages=[MessageOutcomeOut.model_validate(m) for m in result.messages])


@router.get("/interchanges")
async def list_interchanges(principal: Orderer, session: DbSession,
                            direction: Annotated[str | None, Query(pattern="^(in|out)$")] = None,
                            partner_id: uuid.UUID | None = None,
                            limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[InterchangeOut]:
    """The message log, newest first; ``direction=out`` with status ``ready`` is what waits for download."""
    return [InterchangeOut.model_validate(i) for i in await service.list_interchanges(
        session, partner_id=partner_id, direction=direction, limit=limit)]


@router.get("/interchanges/{interchange_id}/content", response_class=Response,
            responses={200: {"content": {EDIFACT: {"schema": {"type": "string"}}}}})
async def download_interchange(interchange_id: uuid.UUID, principal: Orderer, session: DbSession) -> Response:
    """The interchange as sent or received; downloading an outbound one marks it ``downloaded``."""
    interchange = await service.get_interchange(session, interchange_id=interchange_id)
    if interchange.direction == "out":
        interchange = await service.take_outbound(session, interchange_id=interchange_id)
    return Response(interchange.content, media_type=EDIFACT, headers={
        "Content-Disposition": f'attachment; filename="{interchange.filename or interchange.id}"'})


@router.put("/gs1-prefix")
async def set_gs1_prefix(body: Gs1PrefixIn, principal: Manager, session: DbSession) -> Gs1PrefixOut:
    """Register your GS1 company prefix: SSCCs of your parcels and pallets are numbered under it."""
    return Gs1PrefixOut.model_validate(await sscc.set_company_prefix(session, actor=principal.actor,
                                                                      company_prefix=body.company_prefix))


@router.get("/gs1-prefix")
async def get_gs1_prefix(principal: Manager, session: DbSession) -> Gs1PrefixOut:
    """Your GS1 company prefix and the last SSCC serial reference used (404 when none is registered)."""
    found = await sscc.company_prefix(session)
    if found is None:
        raise NotFound("No GS1 company prefix is registered; SSCCs use the platform's prefix.",
                       code="gs1_prefix_not_found")
    return Gs1PrefixOut.model_validate(found)
