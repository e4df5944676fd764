"""Search API responses."""

import uuid
from decimal import Decimal

from pydantic import Field

from tradeloom.schemas import ApiModel


class SearchHitOut(ApiModel):
    material_id: uuid.UUID
    code: str
    name_zh: str
    name_en: str
    class_code: str
    class_name_zh: str
    class_name_en: str
    best_price: Decimal | None = Field(description="lowest public offer tier, or your price list's when lower")
    currency: str
    price_source: str | None = Field(description="offer | price_list")
    supplier_count: int
    in_stock: bool
    lead_time_days: int | None
    highlight: dict[str, str] = Field(description="names, HTML-escaped, with matched terms in <em>")


class FacetValueOut(ApiModel):
    value: str
    count: int
    label_zh: str | None = None
    label_en: str | None = None


class FacetsOut(ApiModel):
    classes: list[FacetValueOut]
    attributes: dict[str, list[FacetValueOut]]
    suppliers: list[FacetValueOut]
    price_ranges: list[FacetValueOut]
    in_stock: list[FacetValueOut]


class SearchPage(ApiModel):
    match: str = Field(description="exact | text | fuzzy | all")
    total: int
    hits: list[SearchHitOut]
    facets: FacetsOut
    next_cursor: str | None
