"""Identifier documents in and out of the API, and the Handle-style resolution record."""

import datetime as dt
import uuid
from typing import Any

from pydantic import Field

from tradeloom.schemas import ApiModel, StrictModel

SUFFIX_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}(/[A-Za-z0-9._\-]{1,64}){0,3}$"


class HandleValueIn(StrictModel):
    """One typed value of a handle record (index 1 is the URL of the public traceability page)."""

    index: int = Field(ge=2, le=99999, description="1 is kept for the traceability URL, 100 for HS_ADMIN")
    type: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$", examples=["EMAIL", "MATERIAL_CODE"])
    value: str = Field(min_length=1, max_length=2000)


class IdentifierCreate(StrictModel):
    suffix: str = Field(pattern=SUFFIX_PATTERN, description="registered as <handle_prefix>/<suffix>",
                        examples=["BATCH-2026-0001"])
    description: str | None = Field(default=None, max_length=200)
    gtin: str | None = Field(default=None, description="GTIN-8/12/13/14 with a valid check digit")
    lot: str | None = Field(default=None, min_length=1, max_length=20, pattern=r"^[!-~]+$")
    serial: str | None = Field(default=None, min_length=1, max_length=20, pattern=r"^[!-~]+$")
    values: list[HandleValueIn] = Field(default_factory=list, max_length=50)
    published: bool = Field(default=False, description="published identifiers resolve publicly")


class IdentifierUpdate(StrictModel):
    """Only the fields sent change."""

    description: str | None = Field(default=None, max_length=200)
    values: list[HandleValueIn] | None = Field(default=None, max_length=50)
    published: bool | None = None


class HandleValueData(ApiModel):
    format: str
    value: str


class HandleValue(ApiModel):
    index: int
    type: str
    data: HandleValueData


class IdentifierOut(ApiModel):
    id: uuid.UUID
    org_id: uuid.UUID
    handle: str
    suffix: str
    description: str | None
    gtin: str | None
    lot: str | None
    serial: str | None
    digital_link: str | None
    values: list[HandleValue]
    published: bool
    version: int
    created_at: dt.datetime


class IdentifierPage(ApiModel):
    items: list[IdentifierOut]
    next_cursor: str | None


class LabelSheetRequest(StrictModel):
    identifier_ids: list[uuid.UUID] = Field(min_length=1, max_length=240)


def handle_record(handle: str, values: list[dict[str, Any]]) -> dict[str, Any]:
    """The Handle REST resolution document (responseCode 1)."""
    return {"responseCode": 1, "handle": handle, "values": values}
