"""Qualification documents: the buyer records its suppliers' documents, a supplier submits its own for the
buyer to approve, either attaches the file (content-addressed, SHA-256), and the buyer sees which suppliers
lack a valid required document. Row-level security shows a row to its buyer and to the supplier it is about.
"""

import datetime as dt
import os
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass, replace
from typing import IO

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.service.attachments import CONTENT_TYPES
from catalog.storage import AttachmentStorage
from commerce.qualifications.models import SupplierQualification
from commerce.qualifications.rules import DocType, QualificationStatus
from tradeloom.audit import Actor, record_audit
from tradeloom.concurrency import check_version
from tradeloom.errors import Conflict, Forbidden, Invalid, NotFound
from tradeloom.identity.models import Organization
from tradeloom.identity.roles import OrgKind
from tradeloom.outbox.service import emit

SUBMITTED = "supplier.qualification.submitted"
REVIEWED = "supplier.qualification.reviewed"
SUPPLYING = (OrgKind.SUPPLIER.value, OrgKind.BOTH.value)
BUYING = (OrgKind.BUYER.value, OrgKind.BOTH.value)


@dataclass(frozen=True)
class QualificationFields:
    doc_type: DocType
    number: str
    issuer: str
    valid_until: dt.date
    valid_from: dt.date | None = None
    is_required: bool = False


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str
    content: IO[bytes]


def facts(qualification: SupplierQualification) -> dict[str, str | bool | None]:
    """What events about a document carry."""
    return {"qualification_id": str(qualification.id), "buyer_org_id": str(qualification.org_id),
            "supplier_org_id": str(qualification.supplier_org_id), "doc_type": qualification.doc_type,
            "number": qualification.number, "valid_until": qualification.valid_until.isoformat(),
            "is_required": qualification.is_required, "status": qualification.status}


async def _party(session: AsyncSession, org_id: uuid.UUID, kinds: tuple[str, ...], what: str) -> Organization:
    org = await session.get(Organization, org_id)
    if org is None or not org.is_active or org.kind not in kinds:
        raise Invalid(f"No active {what} organization has this id.", code=f"qualification_{what}_unknown")
    return org


def _checked(fields: QualificationFields) -> None:
    if fields.valid_from is not None and fields.valid_from > fields.valid_until:
        raise Invalid("The document cannot be valid until before it is valid from.",
                      code="qualification_validity_invalid", errors=[{"pointer": "/valid_until"}])


def new_qualification(*, buyer_org_id: uuid.UUID, supplier_org_id: uuid.UUID, submitted_by: uuid.UUID,
                      fields: QualificationFields, status: QualificationStatus) -> SupplierQualification:
    return SupplierQualification(
        org_id=buyer_org_id, supplier_org_id=supplier_org_id, submitted_by_org_id=submitted_by,
        doc_type=fields.doc_type.value, number=fields.number, issuer=fields.issuer, valid_from=fields.valid_from,
        valid_until=fields.valid_until, is_required=fields.is_required, status=status.value)


async def record_qualification(session: AsyncSession, *, actor: Actor, supplier_org_id: uuid.UUID,
                               fields: QualificationFields) -> SupplierQualification:
    """The buyer records a supplier's document (approved: the buyer vouches for it)."""
    _checked(fields)
    if supplier_org_id == actor.org_id:
        raise Invalid("Record your suppliers' documents, not your own.", code="qualification_supplier_unknown")
    await _party(session, supplier_org_id, SUPPLYING, "supplier")
    qualification = new_qualification(buyer_org_id=actor.org_id, supplier_org_id=supplier_org_id,
                                      submitted_by=actor.org_id, fields=fields, status=QualificationStatus.APPROVED)
    session.add(qualification)
    await session.flush()
    await record_audit(session, actor=actor, action="qualification.recorded", object_type="supplier_qualification",
                       object_id=qualification.id, details={"doc_type": qualification.doc_type})
    return qualification


async def submit_qualification(session: AsyncSession, *, actor: Actor, buyer_org_id: uuid.UUID,
                               fields: QualificationFields) -> SupplierQualification:
    """A supplier hands a buyer one of its own documents; it waits for the buyer's approval."""
    _checked(fields)
    if buyer_org_id == actor.org_id:
        raise Invalid("Submit your documents to a buyer, not to yourself.", code="qualification_buyer_unknown")
    await _party(session, buyer_org_id, BUYING, "buyer")
    await _party(session, actor.org_id, SUPPLYING, "supplier")
    qualification = new_qualification(buyer_org_id=buyer_org_id, supplier_org_id=actor.org_id,
                                      submitted_by=actor.org_id, fields=replace(fields, is_required=False),
                                      status=QualificationStatus.PENDING)  # what is required is the buyer's call
    session.add(qualification)
    await session.flush()
    # events of a request go to the acting organization's subscribers (the outbox's row-level security);
    # the buyer finds the document pending on its page
    await emit(session, org_id=actor.org_id, topic=SUBMITTED, payload=facts(qualification))
    await record_audit(session, actor=actor, action="qualification.submitted", object_type="supplier_qualification",
                       object_id=qualification.id, details={"doc_type": qualification.doc_type})
    return qualification


async def get_qualification(session: AsyncSession, *, qualification_id: uuid.UUID) -> SupplierQualification:
    """One document the caller's organization holds or is the subject of (else 404)."""
    qualification = await session.get(SupplierQualification, qualification_id)
    if qualification is None:
        raise NotFound("No such qualification document.", code="qualification_not_found")
    return qualification


async def attach_file(session: AsyncSession, storage: AttachmentStorage, *, actor: Actor,
                      qualification_id: uuid.UUID, upload: UploadedFile) -> SupplierQualification:
    """Store the scanned document and record its SHA-256: the buyer any time, the supplier while pending."""
    qualification = await get_qualification(session, qualification_id=qualification_id)
    if actor.org_id != qualification.org_id and qualification.status != QualificationStatus.PENDING.value:
        raise Forbidden("Only the buyer changes a document it has reviewed.", code="qualification_reviewed")
    if upload.content.seek(0, os.SEEK_END) == 0:
        raise Invalid("The file is empty.", code="qualification_file_empty")
    media_type = upload.content_type.split(";")[0].strip().lower()
    if media_type not in CONTENT_TYPES:
        raise Invalid(f"Files of type {media_type or 'unknown'} are not accepted.",
                      code="qualification_file_type_refused", errors=[{"accepted": sorted(CONTENT_TYPES)}])
    stored = await storage.put(upload.content)
    qualification.file_sha256, qualification.file_size_bytes = stored.key, stored.size_bytes
    qualification.file_name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1].strip()[:255] or "document"
    qualification.file_content_type = media_type
    await session.flush()
    await record_audit(session, actor=actor, action="qualification.file_attached",
                       object_type="supplier_qualification", object_id=qualification.id,
                       details={"sha256": stored.key})
    return qualification


async def review_qualification(session: AsyncSession, *, actor: Actor, qualification_id: uuid.UUID,
                               expected_version: int, approve: bool, note: str | None,
                               is_required: bool | None = None) -> SupplierQualification:
    """The buyer approves or rejects a document its supplier submitted (If-Match), and may mark it required."""
    qualification = await get_qualification(session, qualification_id=qualification_id)
    if qualification.org_id != actor.org_id:
        raise Forbidden("Only the buyer the document was submitted to reviews it.", code="qualification_not_buyer")
    check_version(qualification.version, expected_version)
    if qualification.status != QualificationStatus.PENDING.value:
        raise Conflict(f"The document is {qualification.status} already.", code="qualification_not_pending")
    if not approve and not (note or "").strip():
        raise Invalid("Say why the document is rejected.", code="qualification_note_missing",
                      errors=[{"pointer": "/note"}])
    qualification.status = (QualificationStatus.APPROVED if approve else QualificationStatus.REJECTED).value
    qualification.review_note = (note or "").strip()[:500] or None
    if is_required is not None:
        qualification.is_required = is_required
    await session.flush()
    await emit(session, org_id=actor.org_id, topic=REVIEWED, payload=facts(qualification))
    await record_audit(session, actor=actor, action="qualification.reviewed", object_type="supplier_qualification",
                       object_id=qualification.id, details={"status": qualification.status})
    return qualification


async def list_qualifications(session: AsyncSession, *, viewer_org_id: uuid.UUID, supplier_org_id: uuid.UUID | None,
                              status: QualificationStatus | None, limit: int = 500) -> list[SupplierQualification]:
    """Documents the viewer keeps as a buyer and those about itself as a supplier, soonest to expire first."""
    query = (select(SupplierQualification)
             .where(or_(SupplierQualification.org_id == viewer_org_id,
                        SupplierQualification.supplier_org_id == viewer_org_id))
             .order_by(SupplierQualification.valid_until, SupplierQualification.id).limit(limit))
    if supplier_org_id is not None:
        query = query.where(SupplierQualification.supplier_org_id == supplier_org_id)
    if status is not None:
        query = query.where(SupplierQualification.status == status.value)
    return list((await session.scalars(query)).all())


async def file_chunks(session: AsyncSession, storage: AttachmentStorage, *,
                      qualification_id: uuid.UUID) -> tuple[SupplierQualification, Iterator[bytes]]:
    """The attached file of a document the caller may see."""
    qualification = await get_qualification(session, qualification_id=qualification_id)
    if qualification.file_sha256 is None:
        raise NotFound("The document has no file attached.", code="qualification_file_missing")
    return qualification, await storage.open(qualification.file_sha256)


async def expired_required(session: AsyncSession, *, buyer_org_id: uuid.UUID, supplier_org_ids: Collection[uuid.UUID],
                           today: dt.date) -> dict[uuid.UUID, list[str]]:
    """Per supplier, the required document types the buyer holds no approved, unexpired document of."""
    if not supplier_org_ids:
        return {}
    rows = await session.execute(select(
        SupplierQualification.supplier_org_id, SupplierQualification.doc_type, SupplierQualification.is_required,
        SupplierQualification.status, SupplierQualification.valid_until,
    ).where(SupplierQualification.org_id == buyer_org_id,
            SupplierQualification.supplier_org_id.in_(sorted(set(supplier_org_ids)))))
    required: dict[uuid.UUID, set[str]] = {}
    valid: dict[uuid.UUID, set[str]] = {}
    for supplier, doc_type, is_required, status, valid_until in rows:
        if is_required:
            required.setdefault(supplier, set()).add(doc_type)
        if status == QualificationStatus.APPROVED.value and valid_until >= today:
            valid.setdefault(supplier, set()).add(doc_type)
    lacking = {supplier: sorted(types - valid.get(supplier, set())) for supplier, types in required.items()}
    return {supplier: types for supplier, types in lacking.items() if types}


async def import_qualification(session: AsyncSession, *, actor: Actor, supplier_org_id: uuid.UUID,
                               fields: QualificationFields, source_system: str, external_id: str,
                               known_id: uuid.UUID | None) -> uuid.UUID:
    """A document as the buyer's SRM holds it: created approved, or refreshed when pulled again (a renewed
    document, a new ``valid_until``, is announced afresh as it runs out)."""
    _checked(fields)
    qualification = None if known_id is None else await session.get(SupplierQualification, known_id)
    if qualification is None:
        await _party(session, supplier_org_id, SUPPLYING, "supplier")
        qualification = new_qualification(buyer_org_id=actor.org_id, supplier_org_id=supplier_org_id,
                                          submitted_by=actor.org_id, fields=fields,
                                          status=QualificationStatus.APPROVED)
        qualification.source_system, qualification.external_id = source_system, external_id
        session.add(qualification)
        await session.flush()
        return qualification.id
    if qualification.valid_until != fields.valid_until:
        qualification.reminded_30_at = qualification.reminded_7_at = qualification.expired_at = None
    qualification.doc_type, qualification.number, qualification.issuer = (fields.doc_type.value, fields.number,
                                                                          fields.issuer)
    qualification.valid_from, qualification.valid_until = fields.valid_from, fields.valid_until
    qualification.is_required = fields.is_required
    await session.flush()
    return qualification.id
