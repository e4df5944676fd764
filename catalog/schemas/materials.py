"""Materials, their history and attachments; classes and their templates."""

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from pydantic import Field

from catalog.schemas.common import PositiveQuantity, UnitCode
from tradeloom.schemas import ApiModel, StrictModel


class MaterialStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    BLOCKED = "blocked"
    RETIRED = "retired"


class AttachmentKind(StrEnum):
    SPEC = "spec"
    DRAWING = "drawing"
    CERTIFICATE = "certificate"
    PHOTO = "photo"


Names: Any = Field(min_length=1, max_length=300)
Gtin: Any = Field(default=None, min_length=1, max_length=14, description="GTIN-8/12/13/14 with its check digit")
PackSizes: Any = Field(
    default_factory=dict,
    description='base units per packaging unit, e.g. {"BX": "100"}: one box holds 100 base units',
)


class MaterialCreate(StrictModel):
    class_code: str = Field(pattern=r"^(?:[0-9]{2}){1,4}$", description="a leaf class of the tree")
    name_zh: str = Names
    name_en: str = Names
    attributes: dict[str, Any] = Field(default_factory=dict, description="values by attribute key of the class")
    base_unit: UnitCode
    pack_sizes: dict[UnitCode, PositiveQuantity] = PackSizes
    gtin: str | None = Gtin


class MaterialUpdate(StrictModel):
    """Only the fields sent change; the class (and so the code) never does."""

    name_zh: str | None = Field(default=None, min_length=1, max_length=300)
    name_en: str | None = Field(default=None, min_length=1, max_length=300)
    attributes: dict[str, Any] | None = None
    base_unit: UnitCode | None = None
    pack_sizes: dict[UnitCode, PositiveQuantity] | None = None
    gtin: str | None = Field(default=None, min_length=1, max_length=14)


class StatusChange(StrictModel):
    status: MaterialStatus
    reason: str | None = Field(default=None, max_length=500)


class MaterialOut(ApiModel):
    id: uuid.UUID
    code: str
    class_code: str
    owner_org_id: uuid.UUID
    name_zh: str
    name_en: str
    attributes: dict[str, Any]
    base_unit: str
    pack_sizes: dict[str, str]
    gtin: str | None
    status: MaterialStatus
    merged_into_id: uuid.UUID | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class MaterialLookupOut(ApiModel):
    """A material found by code; ``redirected_from`` names the retired code asked for, if it was merged."""

    material: MaterialOut
    requested_code: str
    redirected_from: str | None


class MaterialPage(ApiModel):
    items: list[MaterialOut]
    next_cursor: str | None


class MaterialVersionOut(ApiModel):
    version: int
    change: str
    snapshot: dict[str, Any]
    changed_by_org_id: uuid.UUID
    changed_by_user_id: uuid.UUID | None
    changed_at: dt.datetime


class AttachmentOut(ApiModel):
    id: uuid.UUID
    material_id: uuid.UUID
    org_id: uuid.UUID
    kind: AttachmentKind
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    is_public: bool
    created_at: dt.datetime


class ClassSummary(ApiModel):
    code: str
    parent_code: str | None
    name_zh: str
    name_en: str
    is_leaf: bool


class ClassDetail(ClassSummary):
    unspsc: str | None
    path: list[ClassSummary]
    children: list[ClassSummary]
    attribute_template: list[dict[str, Any]] = Field(description="leaves only: typed attributes of their materials")
