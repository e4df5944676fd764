"""``/api/v1/qualifications``: buyers keep their suppliers' qualification documents, suppliers submit
their own for approval, either attaches the scanned file; buyers see which suppliers lack a required one."""

import datetime as dt
import uuid
from typing import Annotated

from fastapi import Depends, File, Query, Response, UploadFile
from fastapi.responses import StreamingResponse

from catalog.api.common import Storage
from catalog.storage import attachment_disposition
from commerce.qualifications import service
from commerce.qualifications.rules import QualificationStatus
from commerce.qualifications.schemas import (
    QualificationOut,
    RecordedIn,
    ReviewIn,
    SubmittedIn,
    SupplierFlagOut,
    qualification_out,
)
from tradeloom.auth import CurrentPrincipal, Principal, requires
from tradeloom.concurrency import ExpectedVersion, set_etag
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix="/api/v1/qualifications", tags=["qualifications"], route_class=TransactionalRoute)
Buyer = Annotated[Principal, Depends(requires(Permission.RFQ_MANAGE))]
Supplier = Annotated[Principal, Depends(requires(Permission.QUOTATION_SUBMIT))]


def _shown(response: Response, qualification: service.SupplierQualification) -> QualificationOut:
    set_etag(response, qualification.version)
    return qualification_out(qualification, dt.date.today())


@router.post("", status_code=201)
async def record(body: RecordedIn, principal: Buyer, session: DbSession, response: Response,
                 _key: Idempotent) -> QualificationOut:
    """Record a supplier's document (approved); attach the file with ``POST /{id}/file``."""
    qualification = await service.record_qualification(session, actor=principal.actor,
                                                       supplier_org_id=body.supplier_org_id, fields=body.fields())
    return _shown(response, qualification)


@router.post("/submitted", status_code=201)
async def submit(body: SubmittedIn, principal: Supplier, session: DbSession, response: Response,
                 _key: Idempotent) -> QualificationOut:
    """Submit one of your documents to a buyer; it is pending until the buyer reviews it."""
    qualification = await service.submit_qualification(session, actor=principal.actor,
                                                       buyer_org_id=body.buyer_org_id, fields=body.fields())
    return _shown(response, qualification)


@router.get("")
async def list_qualifications(principal: CurrentPrincipal, session: DbSession,
                              supplier_org_id: uuid.UUID | None = None,
                              status: Annotated[QualificationStatus | None, Query()] = None) -> list[QualificationOut]:
    """Documents you keep as a buyer and those about you as a supplier, soonest to expire first."""
    found = await service.list_qualifications(session, viewer_org_id=principal.org_id,
                                              supplier_org_id=supplier_org_id, status=status)
    today = dt.date.today()
    return [qualification_out(qualification, today) for qualification in found]


@router.get("/supplier-flags")
async def supplier_flags(principal: Buyer, session: DbSession,
                         supplier_org_id: Annotated[list[uuid.UUID], Query(max_length=200)]) -> list[SupplierFlagOut]:
    """Which of these suppliers lack an approved, unexpired document of a type you require."""
    lacking = await service.expired_required(session, buyer_org_id=principal.org_id,
                                             supplier_org_ids=supplier_org_id, today=dt.date.today())
    return [SupplierFlagOut(supplier_org_id=supplier, expired_required=types) for supplier, types in lacking.items()]


@router.get("/{qualification_id}")
async def get_qualification(qualification_id: uuid.UUID, principal: CurrentPrincipal, session: DbSession,
                            response: Response) -> QualificationOut:
    """One document; its version as ETag."""
    return _shown(response, await service.get_qualification(session, qualification_id=qualification_id))


@router.post("/{qualification_id}/review")
async def review(qualification_id: uuid.UUID, body: ReviewIn, principal: Buyer, session: DbSession,
                 expected_version: ExpectedVersion, response: Response, _key: Idempotent) -> QualificationOut:
    """Approve or reject (with a note) a document a supplier submitted to you (If-Match)."""
    qualification = await service.review_qualification(
        session, actor=principal.actor, qualification_id=qualification_id, expected_version=expected_version,
        approve=body.approve, note=body.note, is_required=body.is_required)
    return _shown(response, qualification)


@router.post("/{qualification_id}/file")
async def attach(qualification_id: uuid.UUID, principal: CurrentPrincipal, session: DbSession, storage: Storage,
                 response: Response, _key: Idempotent,
                 file: Annotated[UploadFile, File(description="the scanned document (PDF, image)")],
                 ) -> QualificationOut:
    """Attach the scanned document (multipart); its SHA-256 is recorded."""
    qualification = await service.attach_file(session, storage, actor=principal.actor,
                                              qualification_id=qualification_id, upload=service.UploadedFile(
                                                  file.filename or "", file.content_type or "", file.file))
    return _shown(response, qualification)


@router.get("/{qualification_id}/file", response_class=Response)
async def download(qualification_id: uuid.UUID, principal: CurrentPrincipal, session: DbSession,
                   storage: Storage) -> Response:
    """The attached file, as a download."""
    qualification, chunks = await service.file_chunks(session, storage, qualification_id=qualification_id)
    return StreamingResponse(chunks, media_type=qualification.file_content_type or "application/octet-stream",
                             headers={"Content-Disposition": attachment_disposition(qualification.file_name or "file"),
                                      "ETag": f'"{qualification.file_sha256}"', "X-Content-Type-Options": "nosniff"})
