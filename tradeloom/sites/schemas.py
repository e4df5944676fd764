"""Site documents in and out of the API."""

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import Field

from tradeloom.schemas import ApiModel, StrictModel


class SiteKind(StrEnum):
    PLANT = "plant"
    WAREHOUSE = "warehouse"
    OFFICE = "office"
    YARD = "yard"


class SiteFields(StrictModel):
    kind: SiteKind
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    country: str = Field(default="CN", pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    province: str = Field(min_length=1, max_length=64)
    city: str = Field(min_length=1, max_length=64)
    address_line: str = Field(min_length=1, max_length=300)
    postal_code: str | None = Field(default=None, max_length=16)
    contact_name: str | None = Field(default=None, max_length=120)
    contact_phone: str | None = Field(default=None, max_length=40)


class SiteCreate(SiteFields):
    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_-]{0,31}$", description="unique within the organization")


class SiteUpdate(StrictModel):
    """Only the fields sent change."""

    kind: SiteKind | None = None
    name_zh: str | None = Field(default=None, min_length=1, max_length=200)
    name_en: str | None = Field(default=None, min_length=1, max_length=200)
    province: str | None = Field(default=None, min_length=1, max_length=64)
    city: str | None = Field(default=None, min_length=1, max_length=64)
    address_line: str | None = Field(default=None, min_length=1, max_length=300)
    postal_code: str | None = Field(default=None, max_length=16)
    contact_name: str | None = Field(default=None, max_length=120)
    contact_phone: str | None = Field(default=None, max_length=40)
    is_active: bool | None = None


class SiteOut(ApiModel):
    id: uuid.UUID
    org_id: uuid.UUID
    code: str
    kind: SiteKind
    name_zh: str
    name_en: str
    country: str
    province: str
    city: str
    address_line: str
    postal_code: str | None
    contact_name: str | None
    contact_phone: str | None
    is_active: bool
    version: int
    created_at: dt.datetime


class SitePage(ApiModel):
    items: list[SiteOut]
    next_cursor: str | None
