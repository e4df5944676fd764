"""The search interface both backends implement, and what a search returns."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Protocol

from catalog.search.query import MatchKind, SearchQuery


@dataclass(frozen=True)
class SearchHit:
    material_id: uuid.UUID
    code: str
    name_zh: str
    name_en: str
    class_code: str
    class_name_zh: str
    class_name_en: str
    best_price: Decimal | None
    currency: str
    price_source: str | None  # "offer" (lowest public offer tier) or "price_list" (yours, negotiated)
    supplier_count: int
    in_stock: bool
    lead_time_days: int | None
    highlight: dict[str, str]

    def with_price(self, price: Decimal, source: str) -> "SearchHit":
        return replace(self, best_price=price, price_source=source)


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int
    label_zh: str | None = None
    label_en: str | None = None


@dataclass(frozen=True)
class Facets:
    classes: list[FacetValue] = field(default_factory=list)
    attributes: dict[str, list[FacetValue]] = field(default_factory=dict)  # only with a class filter
    suppliers: list[FacetValue] = field(default_factory=list)
    price_ranges: list[FacetValue] = field(default_factory=list)
    in_stock: list[FacetValue] = field(default_factory=list)


@dataclass(frozen=True)
class SearchResult:
    hits: list[SearchHit]
    total: int
    facets: Facets
    match: MatchKind
    next_offset: int | None = None


class SearchBackend(Protocol):
    """Where materials are indexed and searched. Indexing is idempotent: it re-reads each material by id."""

    async def index_materials(self, material_ids: Sequence[uuid.UUID]) -> int:
        """(Re)index these materials from the database; those no longer searchable are removed. Returns indexed."""
        ...

    async def remove(self, material_ids: Sequence[uuid.UUID]) -> None:
        """Take these materials out of search."""
        ...

    async def search(self, query: SearchQuery) -> SearchResult:
        """Exact identifier lookups first, then text (with synonyms), then fuzzy; filters, facets, one page."""
        ...
