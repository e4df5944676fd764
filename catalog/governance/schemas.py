"""Merge, duplicate-queue and quality-report bodies."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from pydantic import Field

from catalog.codes import MATERIAL_CODE
from tradeloom.schemas import ApiModel, StrictModel

_CODE = Field(pattern=f"^{MATERIAL_CODE.pattern}$", max_length=24)


class MergeIn(StrictModel):
    """Retire ``retired_code`` into ``survivor_code``; the survivor keeps its code."""

    survivor_code: str = _CODE
    retired_code: str = _CODE


class MergeOut(ApiModel):
    survivor_code: str
    retired_code: str
    offers_moved: int
    price_list_lines_moved: int
    price_list_lines_kept: int = Field(description="lines kept on the retired code: the list already had the survivor")
    candidates_moved: int
    same_supplier_offers: list[dict[str, Any]] = Field(description="suppliers that offered both: both offers kept")


class MaterialBrief(ApiModel):
    id: uuid.UUID
    code: str
    name_zh: str
    name_en: str
    owner_org_id: uuid.UUID
    status: str


class CandidateOut(ApiModel):
    id: uuid.UUID
    class_code: str
    score: Decimal
    parts: dict[str, Any]
    status: str
    first: MaterialBrief | None = None
    second: MaterialBrief | None = None
    reviewed_by_org_id: uuid.UUID | None
    reviewed_at: dt.datetime | None


class CandidatePage(ApiModel):
    items: list[CandidateOut]
    next_cursor: str | None


class QualityReportOut(ApiModel):
    owner: str
    scored: int
    unscored: int
    average: float | None
    buckets: list[dict[str, int]]
    worst: list[dict[str, Any]]


class ScanQueued(ApiModel):
    status: str = "queued"
