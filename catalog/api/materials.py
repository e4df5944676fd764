"""Class tree, materials (with history, lifecycle and attachments)."""

import uuid
from typing import Annotated

from fastapi import File, Form, Query, Response, UploadFile
from fastapi.responses import RedirectResponse, StreamingResponse

from catalog.api.common import PREFIX, Reader, Storage, Writer
from catalog.models import MaterialClass
from catalog.schemas.materials import (
    AttachmentKind,
    AttachmentOut,
    ClassDetail,
    ClassSummary,
    MaterialCreate,
    MaterialLookupOut,
    MaterialOut,
    MaterialPage,
    MaterialStatus,
    MaterialUpdate,
    MaterialVersionOut,
    StatusChange,
)
from catalog.service import attachments, classes, lifecycle, materials
from catalog.storage import attachment_disposition
from tradeloom.concurrency import ExpectedVersion, set_etag
from tradeloom.idempotency import Idempotent
from tradeloom.pagination import Cursor, PageSize
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix=PREFIX, tags=["catalog"], route_class=TransactionalRoute)


def _summary(node: MaterialClass) -> ClassSummary:
    return ClassSummary.model_validate(node)


@router.get("/classes")
async def list_root_classes(principal: Reader, session: DbSession) -> list[ClassSummary]:
    """The top-level groups of the class tree."""
    return [_summary(node) for node in await classes.root_classes(session)]


@router.get("/classes/{code}")
async def get_class(code: str, principal: Reader, session: DbSession) -> ClassDetail:
    """A class with its path from the top, its children and (for leaves) its attribute template."""
    view = await classes.get_class(session, code=code)
    return ClassDetail(
        **_summary(view.node).model_dump(), unspsc=view.node.unspsc,
        path=[_summary(node) for node in view.path], children=[_summary(node) for node in view.children],
        attribute_template=view.node.attribute_template or [],
    )


@router.post("/materials", status_code=201)
async def create_material(
    body: MaterialCreate, principal: Writer, session: DbSession, response: Response, _key: Idempotent
) -> MaterialOut:
    """Register a material; it gets the next unified code of its class and starts as a draft."""
    material = await materials.create_material(session, actor=principal.actor, fields=body)
    set_etag(response, material.version)
    response.headers["Location"] = f"{router.prefix}/materials/{material.id}"
    return MaterialOut.model_validate(material)


@router.get("/materials")
async def list_materials(
    principal: Reader, session: DbSession, limit: PageSize = 50, cursor: Cursor = None,
    class_code: Annotated[str | None, Query(pattern=r"^(?:[0-9]{2}){1,4}$",
                                            description="a class; groups include all below")] = None,
    status: MaterialStatus | None = None, owner_org_id: uuid.UUID | None = None,
) -> MaterialPage:
    """Materials in code order, filtered by class, status and owner."""
    items, next_cursor = await materials.list_materials(
        session, limit=limit, cursor=cursor, class_code=class_code, status=status, owner_org_id=owner_org_id
    )
    return MaterialPage(items=[MaterialOut.model_validate(m) for m in items], next_cursor=next_cursor)


@router.get("/materials/by-code/{code}")
async def find_material_by_code(code: str, principal: Reader, session: DbSession, response: Response
                                ) -> MaterialLookupOut:
    """The material with a unified code; a code retired by a merge answers with the surviving material."""
    lookup = await materials.find_material_by_code(session, code=code)
    set_etag(response, lookup.material.version)
    return MaterialLookupOut(material=MaterialOut.model_validate(lookup.material),
                             requested_code=lookup.requested_code, redirected_from=lookup.redirected_from)


@router.get("/materials/{material_id}")
async def get_material(material_id: uuid.UUID, principal: Reader, session: DbSession, response: Response
                       ) -> MaterialOut:
    """One material, with its version as ETag."""
    material = await materials.get_material(session, material_id=material_id)
    set_etag(response, material.version)
    return MaterialOut.model_validate(material)


@router.patch("/materials/{material_id}")
async def update_material(
    material_id: uuid.UUID, body: MaterialUpdate, principal: Writer, session: DbSession, response: Response,
    expected_version: ExpectedVersion,
) -> MaterialOut:
    """Change a material you own; send the ETag you read as If-Match (412 if it changed since)."""
    material = await materials.update_material(
        session, actor=principal.actor, material_id=material_id, expected_version=expected_version,
        changes=body, platform_admin=principal.is_platform_admin,
    )
    set_etag(response, material.version)
    return MaterialOut.model_validate(material)


@router.post("/materials/{material_id}/status")
async def change_status(
    material_id: uuid.UUID, body: StatusChange, principal: Writer, session: DbSession, response: Response,
    expected_version: ExpectedVersion, _key: Idempotent,
) -> MaterialOut:
    """Move a material along draft → active → blocked → retired (If-Match guarded)."""
    material = await lifecycle.change_status(
        session, actor=principal.actor, material_id=material_id, expected_version=expected_version,
        status=body.status, reason=body.reason, platform_admin=principal.is_platform_admin,
    )
    set_etag(response, material.version)
    return MaterialOut.model_validate(material)


@router.get("/materials/{material_id}/versions")
async def material_history(material_id: uuid.UUID, principal: Reader, session: DbSession
                           ) -> list[MaterialVersionOut]:
    """Every snapshot of a material, oldest first."""
    history = await materials.material_history(session, material_id=material_id)
    return [MaterialVersionOut.model_validate(version) for version in history]


@router.post("/materials/{material_id}/attachments", status_code=201)
async def add_attachment(
    material_id: uuid.UUID, principal: Writer, session: DbSession, storage: Storage, _key: Idempotent,
    file: Annotated[UploadFile, File(description="the document (PDF, image, drawing …)")],
    kind: Annotated[AttachmentKind, Form()] = AttachmentKind.SPEC,
    is_public: Annotated[bool, Form(description="false: only your organization sees it")] = True,
) -> AttachmentOut:
    """Attach a spec sheet, drawing, certificate or photo (multipart); its SHA-256 is recorded."""
    attachment = await attachments.add_attachment(
        session, storage, actor=principal.actor, material_id=material_id, kind=kind,
        filename=file.filename or "", content_type=file.content_type or "", content=file.file,
        is_public=is_public,
    )
    return AttachmentOut.model_validate(attachment)


@router.get("/materials/{material_id}/attachments")
async def list_attachments(material_id: uuid.UUID, principal: Reader, session: DbSession) -> list[AttachmentOut]:
    """The material's attachments you may see (public ones and your organization's own)."""
    found = await attachments.list_attachments(session, material_id=material_id)
    return [AttachmentOut.model_validate(attachment) for attachment in found]


@router.get("/attachments/{attachment_id}/content", response_class=Response)
async def download_attachment(attachment_id: uuid.UUID, principal: Reader, session: DbSession, storage: Storage
                              ) -> Response:
    """The file itself, as a download (never rendered inline): streamed, or a redirect to a presigned URL."""
    download = await attachments.attachment_download(session, storage, attachment_id=attachment_id)
    if download.url is not None:
        return RedirectResponse(download.url, status_code=307)
    attachment = download.attachment
    return StreamingResponse(download.chunks, media_type=attachment.content_type, headers={
        "Content-Disposition": attachment_disposition(attachment.filename),
        "Content-Length": str(attachment.size_bytes),
        "ETag": f'"{attachment.sha256}"', "X-Content-Type-Options": "nosniff",
    })
