"""Qualification documents in and out of the API."""

import datetime as dt
import uuid
from typing import Annotated

from pydantic import Field

from commerce.qualifications.models import SupplierQualification
from commerce.qualifications.rules import DocType, standing
from commerce.qualifications.service import QualificationFields
from tradeloom.schemas import ApiModel, StrictModel


class QualificationIn(StrictModel):
    doc_type: DocType
    number: Annotated[str, Field(min_length=1, max_length=80)]
    issuer: Annotated[str, Field(min_length=1, max_length=200)]
    valid_from: dt.date | None = None
    valid_until: dt.date
    is_required: bool = False

    def fields(self) -> QualificationFields:
        return QualificationFields(self.doc_type, self.number.strip(), self.issuer.strip(), self.valid_until,
                                   self.valid_from, self.is_required)


class RecordedIn(QualificationIn):
    """The buyer records a document of one of its suppliers."""

    supplier_org_id: uuid.UUID


class SubmittedIn(QualificationIn):
    """A supplier submits one of its documents to a buyer (whether it is required is the buyer's call)."""

    buyer_org_id: uuid.UUID


class ReviewIn(StrictModel):
    approve: bool
    is_required: bool | None = None  # the buyer requires this document of the supplier
    note: Annotated[str | None, Field(max_length=500)] = None


class QualificationOut(ApiModel):
    id: uuid.UUID
    org_id: uuid.UUID  # the buyer that keeps it
    supplier_org_id: uuid.UUID
    doc_type: str
    number: str
    issuer: str
    valid_from: dt.date | None
    valid_until: dt.date
    is_required: bool
    status: str
    standing: str  # valid, expiring, expired
    review_note: str | None
    file_sha256: str | None
    file_name: str | None
    file_size_bytes: int | None
    source_system: str | None
    external_id: str | None
    reminded_30_at: dt.datetime | None
    reminded_7_at: dt.datetime | None
    expired_at: dt.datetime | None
    version: int


def qualification_out(qualification: SupplierQualification, today: dt.date) -> QualificationOut:
    return QualificationOut.model_validate(
        {name: getattr(qualification, name) for name in QualificationOut.model_fields if name != "standing"}
        | {"standing": standing(qualification.valid_until, today)})


class SupplierFlagOut(ApiModel):
    supplier_org_id: uuid.UUID
    expired_required: list[str]  # required document types without an approved, unexpired document
