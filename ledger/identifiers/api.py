"""``/api/v1/identifiers``: register and manage your organization's identifiers; QR codes and label sheets."""

import uuid
from typing import Annotated

from fastapi import Depends, Request, Response

from ledger.identifiers import service
from ledger.identifiers.digital_link import DigitalLink
from ledger.identifiers.models import Identifier
from ledger.identifiers.qr import qr_png, qr_svg
from ledger.identifiers.schemas import (
    IdentifierCreate,
    IdentifierOut,
    IdentifierPage,
    IdentifierUpdate,
    LabelSheetRequest,
)
from tradeloom.auth import OptionalPrincipal, Principal, requires
from tradeloom.concurrency import ExpectedVersion, set_etag
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.pagination import Cursor, PageSize
from tradeloom.routing import PrefixedRouter
from tradeloom.settings import Settings
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix="/api/v1/identifiers", tags=["identifiers"], route_class=TransactionalRoute)
Reader = Annotated[Principal, Depends(requires(Permission.LEDGER_READ))]
Manager = Annotated[Principal, Depends(requires(Permission.IDENTIFIERS_MANAGE))]
QR_CACHE = "public, max-age=300"


def app_settings(request: Request) -> Settings:
    return request.app.state.settings


AppSettings = Annotated[Settings, Depends(app_settings)]


def identifier_out(identifier: Identifier, base_url: str) -> IdentifierOut:
    link = DigitalLink(identifier.gtin, identifier.lot, identifier.serial) if identifier.gtin else None
    return IdentifierOut.model_validate({
        **{name: getattr(identifier, name) for name in (
            "id", "org_id", "handle", "suffix", "description", "gtin", "lot", "serial", "published", "version",
            "created_at")},
        "values": identifier.handle_values, "digital_link": link.uri(base_url) if link else None,
    })


@router.post("", status_code=201)
async def register_identifier(
    body: IdentifierCreate, principal: Manager, session: DbSession, response: Response, settings: AppSettings,
    _key: Idempotent,
) -> IdentifierOut:
    """Register a handle under the platform's enterprise prefix for your organization."""
    identifier = await service.register_identifier(
        session, actor=principal.actor, prefix=settings.handle_prefix, base_url=settings.public_base_url,
        fields=body,
    )
    set_etag(response, identifier.version)
    response.headers["Location"] = f"{router.prefix}/{identifier.id}"
    return identifier_out(identifier, settings.public_base_url)


@router.get("")
async def list_identifiers(
    principal: Reader, session: DbSession, settings: AppSettings, limit: PageSize = 50, cursor: Cursor = None
) -> IdentifierPage:
    """Your organization's identifiers, ordered by handle."""
    identifiers, next_cursor = await service.list_identifiers(session, limit=limit, cursor=cursor)
    return IdentifierPage(items=[identifier_out(i, settings.public_base_url) for i in identifiers],
                          next_cursor=next_cursor)


@router.post("/labels.pdf", response_class=Response,
             responses={200: {"content": {"application/pdf": {}}, "description": "A4 label sheet"}})
async def label_sheet(body: LabelSheetRequest, principal: Manager, session: DbSession,
                      settings: AppSettings) -> Response:
    """A printable A4 sheet of QR labels for your identifiers, in the order given."""
    pdf = await service.label_sheet(session, identifier_ids=body.identifier_ids, base_url=settings.public_base_url)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": 'inline; filename="labels.pdf"'})


@router.get("/{identifier_id}")
async def get_identifier(
    identifier_id: uuid.UUID, principal: Reader, session: DbSession, response: Response, settings: AppSettings
) -> IdentifierOut:
    """One of your identifiers, with its version as ETag."""
    identifier = await service.get_identifier(session, identifier_id=identifier_id)
    set_etag(response, identifier.version)
    return identifier_out(identifier, settings.public_base_url)


@router.patch("/{identifier_id}")
async def update_identifier(
    identifier_id: uuid.UUID, body: IdentifierUpdate, principal: Manager, session: DbSession, response: Response,
    expected_version: ExpectedVersion, settings: AppSettings,
) -> IdentifierOut:
    """Change description, handle values or publication; send the ETag you read as If-Match."""
    identifier = await service.update_identifier(
        session, actor=principal.actor, base_url=settings.public_base_url, identifier_id=identifier_id,
        expected_version=expected_version, changes=body,
    )
    set_etag(response, identifier.version)
    return identifier_out(identifier, settings.public_base_url)


@router.get("/{identifier_id}/qr.svg", response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}}, "description": "QR code"}})
async def qr_code_svg(identifier_id: uuid.UUID, principal: OptionalPrincipal, session: DbSession,
                      settings: AppSettings) -> Response:
    """The identifier's QR code as SVG (public for published identifiers)."""
    content = await _qr_content(session, identifier_id, principal, settings)
    return Response(qr_svg(content), media_type="image/svg+xml", headers={"Cache-Control": QR_CACHE})


@router.get("/{identifier_id}/qr.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}, "description": "QR code"}})
async def qr_code_png(identifier_id: uuid.UUID, principal: OptionalPrincipal, session: DbSession,
                      settings: AppSettings) -> Response:
    """The identifier's QR code as PNG (public for published identifiers)."""
    content = await _qr_content(session, identifier_id, principal, settings)
    return Response(qr_png(content), media_type="image/png", headers={"Cache-Control": QR_CACHE})


async def _qr_content(session: DbSession, identifier_id: uuid.UUID, principal: Principal | None,
                      settings: Settings) -> str:
    identifier = await service.printable_identifier(session, identifier_id=identifier_id,
                                                    signed_in=principal is not None)
    return service.qr_content(settings.public_base_url, identifier)
