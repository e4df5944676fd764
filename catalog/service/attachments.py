"""Spec sheets, drawings, certificates and photos of a material.

Any member may attach a file to a material (a supplier's certificate for shared master data); the row
belongs to the uploader's organization, and a private attachment is visible to that organization only
(row-level security). The file goes to storage first: content-addressed, so a rolled-back upload leaves at
most an unreferenced copy of bytes that some later upload of the same file reuses.
"""

import os
import uuid
from collections.abc import Iterator
from typing import IO, NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import MaterialAttachment
from catalog.schemas.materials import AttachmentKind
from catalog.service.materials import get_material
from catalog.storage import AttachmentStorage
from tradeloom.audit import Actor, record_audit
from tradeloom.errors import Invalid, NotFound

# What a browser can show or a buyer's ERP can file; anything else is most likely a mistake or a risk.
CONTENT_TYPES = frozenset({
    "application/pdf", "image/png", "image/jpeg", "image/webp", "image/svg+xml", "text/plain", "text/csv",
    "application/zip", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/dxf", "image/vnd.dxf", "model/step", "application/step",
})


async def add_attachment(
    session: AsyncSession, storage: AttachmentStorage, *, actor: Actor, material_id: uuid.UUID,
    kind: AttachmentKind, filename: str, content_type: str, content: IO[bytes], is_public: bool = True,
) -> MaterialAttachment:
    """Store the file (a seekable file object, streamed) and record it with its SHA-256 against the material."""
    await get_material(session, material_id=material_id)
    if content.seek(0, os.SEEK_END) == 0:
        raise Invalid("The file is empty.", code="catalog.attachment_empty")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type not in CONTENT_TYPES:
        raise Invalid(f"Files of type {media_type or 'unknown'} are not accepted.",
                      code="catalog.attachment_type_refused", errors=[{"accepted": sorted(CONTENT_TYPES)}])
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()[:255] or "attachment"
    stored = await storage.put(content)
    attachment = MaterialAttachment(
        org_id=actor.org_id, material_id=material_id, kind=kind.value, filename=name, content_type=media_type,
        size_bytes=stored.size_bytes, sha256=stored.key, storage_key=stored.key, is_public=is_public,
    )
    session.add(attachment)
    await session.flush()
    await record_audit(session, actor=actor, action="material.attachment_added", object_type="material",
                       object_id=material_id, details={"attachment_id": str(attachment.id), "sha256": stored.key})
    return attachment


async def list_attachments(session: AsyncSession, *, material_id: uuid.UUID) -> list[MaterialAttachment]:
    """The material's attachments the caller may see (public ones and its own), newest first."""
    await get_material(session, material_id=material_id)
    query = select(MaterialAttachment).where(MaterialAttachment.material_id == material_id).order_by(
        MaterialAttachment.created_at.desc(), MaterialAttachment.id
    )
    return list((await session.scalars(query)).all())


class AttachmentDownload(NamedTuple):
    """Where the caller gets the bytes: a presigned URL of the store, or chunks the API passes on."""

    attachment: MaterialAttachment
    url: str | None
    chunks: Iterator[bytes]  # empty when there is a URL


async def attachment_download(
    session: AsyncSession, storage: AttachmentStorage, *, attachment_id: uuid.UUID
) -> AttachmentDownload:
    """An attachment the caller may see (row-level security decides), as a store URL or as its bytes."""
    attachment = await session.get(MaterialAttachment, attachment_id)
    if attachment is None:
        raise NotFound("No such attachment.", code="catalog.attachment_not_found")
    url = await storage.download_url(attachment.storage_key, filename=attachment.filename,
                                     content_type=attachment.content_type)
    if url is not None:
        return AttachmentDownload(attachment, url, iter(()))
    return AttachmentDownload(attachment, None, await storage.open(attachment.storage_key))
