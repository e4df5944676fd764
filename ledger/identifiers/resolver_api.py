"""Public resolution, no sign-in: Handle-style ``/api/handles/…`` and the GS1-Conformant resolver ``/01/…``.

Both read published identifiers only, through the narrow SECURITY DEFINER functions of migration 0004.
"""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from ledger.identifiers import service
from ledger.identifiers.api import AppSettings
from ledger.identifiers.digital_link import DigitalLink, parse_digital_link
from ledger.identifiers.schemas import handle_record
from tradeloom.errors import NotFound
from tradeloom.transaction import DbSession, TransactionalRoute

router = APIRouter(tags=["resolution"], route_class=TransactionalRoute)
GS1_VOC = "https://gs1.org/voc/"
LINKSET_TYPES = ("all", "linkset")
PIP_VALUE_TYPE = "GS1_PIP"
HANDLE_NOT_FOUND, VALUES_NOT_FOUND = 100, 200


@router.get("/api/handles/{prefix}/{suffix:path}")
async def resolve_handle(
    prefix: str, suffix: str, session: DbSession,
    value_types: Annotated[list[str] | None, Query(alias="type", description="only values of this type (repeatable)")]
    = None,
    indexes: Annotated[list[int] | None, Query(alias="index", description="only the value at this index (repeatable)")]
    = None,
) -> JSONResponse:
    """Resolve a handle to its published values, as the Handle REST API does (responseCode 1, 100, 200)."""
    handle = f"{prefix}/{suffix}"
    identifier = await service.published_by_handle(session, handle=handle)
    if identifier is None:
        return JSONResponse({"responseCode": HANDLE_NOT_FOUND, "handle": handle, "message": "Handle not found"},
                            status_code=404)
    values = service.select_values(identifier.handle_values, types=value_types or [], indexes=indexes or [])
    if not values:
        return JSONResponse({"responseCode": VALUES_NOT_FOUND, "handle": handle, "values": [],
                             "message": "Values not found"})
    return JSONResponse(handle_record(handle, values))


@router.get("/.well-known/gs1resolver")
async def resolver_description(settings: AppSettings) -> dict[str, Any]:
    """The GS1-Conformant resolver description file."""
    return {
        "name": "Tradeloom GS1 resolver", "resolverRoot": settings.public_base_url,
        "supportedPrimaryKeys": ["01"], "linkTypeDefaultCanBeLinkset": False,
        "supportedLinkType": [{"namespace": GS1_VOC, "prefix": "gs1:"}],
    }


@router.head("/01/{key_path:path}", response_model=None, operation_id="resolve_digital_link_head")
@router.get("/01/{key_path:path}", response_model=None)
async def resolve_digital_link(
    key_path: str, request: Request, session: DbSession, settings: AppSettings,
    link_type: Annotated[str | None, Query(alias="linkType", max_length=200)] = None,
) -> Response:
    """Resolve a GS1 Digital Link: 307 to the requested (or default) link, or the linkset for linkType=all."""
    requested = parse_digital_link(settings.public_base_url.rstrip("/") + request.url.path)
    identifier = await service.published_by_digital_link(session, link=requested)
    if identifier is None:
        raise NotFound("No published item has this GS1 key.", code="digital_link_unknown")
    links = _links(identifier, requested, settings.public_base_url)
    anchor = requested.uri(settings.public_base_url)
    headers = {"Link": f'<{anchor}?linkType=linkset>; rel="linkset"; type="application/linkset+json"',
               "Access-Control-Allow-Origin": "*"}
    if link_type in LINKSET_TYPES:
        return JSONResponse(_linkset(anchor, links), media_type="application/linkset+json", headers=headers)
    target = links.get(_link_type_key(link_type or ""), links["defaultLink"])
    return RedirectResponse(target[0], status_code=307, headers=headers)


def _link_type_key(link_type: str) -> str:
    """``gs1:epcis`` or ``https://gs1.org/voc/epcis`` → ``epcis``."""
    for prefix in ("gs1:", GS1_VOC, "https://ref.gs1.org/voc/"):
        if link_type.startswith(prefix):
            return link_type.removeprefix(prefix)
    return link_type


def _links(
    identifier: service.PublicIdentifier, requested: DigitalLink, base_url: str
) -> dict[str, tuple[str, str, str]]:
    """Link type → (href, title, media type) offered for this item."""
    page = (service.traceability_url(base_url, identifier.handle), "Traceability / 追溯信息", "text/html")
    events = (f"{base_url.rstrip('/')}/api/v1/epcis/events?epc={quote(requested.canonical_epc, safe='')}",
              "EPCIS events", "application/json")
    links = {"defaultLink": page, "traceability": page, "epcis": events}
    for value in identifier.handle_values:
        if value["type"] == PIP_VALUE_TYPE:
            links["pip"] = (value["data"]["value"], "Product information", "text/html")
    return links


def _linkset(anchor: str, links: dict[str, tuple[str, str, str]]) -> dict[str, Any]:
    """RFC 9264 JSON linkset, link relations as GS1 web vocabulary URIs."""
    context: dict[str, Any] = {"anchor": anchor}
    for name, (href, title, media_type) in links.items():
        context[GS1_VOC + name] = [{"href": href, "title": title, "type": media_type}]
    return {"linkset": [context]}
