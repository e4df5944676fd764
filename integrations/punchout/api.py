"""``/api/v1/punchout``: credentials (org admins) and the cXML endpoint procurement systems post to.

The cXML endpoint is unauthenticated HTTP: the document's own credentials (From identity, Sender
SharedSecret) say who calls. It always answers in cXML, with the HTTP status equal to the cXML status code.
"""

import uuid
import xml.etree.ElementTree as ET  # element type only; parsing uses defusedxml
from typing import Annotated, Any

from fastapi import Depends, Request, Response

from integrations.punchout import cxml, service
from integrations.punchout.schemas import CredentialCreated, CredentialIn, CredentialOut, CredentialSwitch
from tradeloom.auth import Principal, requires
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.sites.service import get_site
from tradeloom.transaction import DbSession, TransactionalRoute, TransactionScope, Tx

router = PrefixedRouter(prefix="/api/v1/punchout", tags=["punchout"], route_class=TransactionalRoute)
Manager = Annotated[Principal, Depends(requires(Permission.INTEGRATION_MANAGE))]
CXML_TYPE = "text/xml; charset=utf-8"
_CXML_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {"text/xml": {"schema": {
    "type": "string", "description": "a cXML PunchOutSetupRequest or OrderRequest"}}}}}


@router.post("/credentials", status_code=201)
async def create_credential(body: CredentialIn, principal: Manager, session: DbSession,
                            _key: Idempotent) -> CredentialCreated:
    """Create the credential a procurement system punches out with; the shared secret is shown only here."""
    await get_site(session, site_id=body.delivery_site_id)  # one of the buyer's own sites (RLS), else 404
    credential, secret = await service.create_credential(session, actor=principal.actor, **body.model_dump())
    return CredentialCreated(**CredentialOut.model_validate(credential).model_dump(), shared_secret=secret)


@router.get("/credentials")
async def list_credentials(principal: Manager, session: DbSession) -> list[CredentialOut]:
    """Your organization's PunchOut credentials."""
    return [CredentialOut.model_validate(c) for c in await service.list_credentials(session)]


@router.patch("/credentials/{credential_id}")
async def switch_credential(credential_id: uuid.UUID, body: CredentialSwitch, principal: Manager,
                            session: DbSession) -> CredentialOut:
    """Switch a credential off or on."""
    return CredentialOut.model_validate(await service.set_credential_active(
        session, actor=principal.actor, credential_id=credential_id, is_active=body.is_active))


def _answer(status: int, text: str, start_page: str | None = None) -> Response:
    return Response(cxml.response(status, text, start_page=start_page), status_code=status, media_type=CXML_TYPE)


@router.post("/cxml", openapi_extra=_CXML_BODY, response_class=Response)
async def cxml_endpoint(request: Request, tx: Tx) -> Response:
    """PunchOutSetupRequest → PunchOutSetupResponse with a one-time StartPage URL; OrderRequest → the purchase
    order (idempotent by payloadID and orderID). Errors are a cXML Response with a 4xx Status code."""
    body = await request.body()
    try:
        kind, element, header = cxml.parse(body)
        match = await service.authenticate(await tx.session(), header)
        await tx.set_context(org_id=match.org_id, user_id=None)
        return await _dispatch(request, tx, kind, element, header, match, body)
    except cxml.CxmlError as error:
        await tx.abandon()
        return _answer(error.status, error.text)


async def _dispatch(request: Request, tx: TransactionScope, kind: str, element: ET.Element, header: cxml.Header,
                    match: service.CredentialMatch, body: bytes) -> Response:
    session = await tx.session()
    if kind == "PunchOutSetupRequest":
        setup = cxml.setup_request(element, header)
        _, token = await service.open_session(session, match=match, request=setup)
        return _answer(200, "PunchOut session opened.", start_page=f"{request.base_url}punchout/start/{token}")
    if kind == "OrderRequest":
        order_request = cxml.order_request(element, header)
        order, taken = await service.take_order(session, match=match, request=order_request,
                                                body=body.decode("utf-8", errors="replace"))
        if order is None:
            return _answer(200, f"Already received (orderID {taken.order_ref}); no new order was placed.")
        return _answer(200, f"Order {order.number} placed.")
    raise cxml.CxmlError(400, f"{kind} is not a request this endpoint takes (PunchOutSetupRequest, OrderRequest).")
