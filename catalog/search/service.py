"""Catalogue search operations: pick the backend, search for a member, (re)index materials."""

import uuid
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal

from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Material, PriceList, PriceListLine
from catalog.search.backend import SearchBackend, SearchHit, SearchResult
from catalog.search.opensearch import OpenSearchBackend, client_for
from catalog.search.postgres import PostgresSearch
from catalog.search.query import CATALOGUE_CURRENCY, SearchQuery
from tradeloom.settings import Settings

REINDEX_BATCH = 1000


def backend_for(session: AsyncSession, settings: Settings) -> SearchBackend:
    """OpenSearch when ``TRADELOOM_SEARCH_URL`` is set, else PostgreSQL full-text search."""
    if settings.search_url:
        return OpenSearchBackend(session, client_for(settings.search_url), index=settings.search_index)
    return PostgresSearch(session)


async def search_catalog(session: AsyncSession, backend: SearchBackend, *, query: SearchQuery,
                         buyer_org_id: uuid.UUID) -> SearchResult:
    """Search the shared catalogue; a hit shows the buyer's own negotiated price when it beats the offers."""
    result = await backend.search(query)
    negotiated = await _negotiated_prices(session, buyer_org_id, [hit.material_id for hit in result.hits])
    hits = [_with_negotiated(hit, negotiated.get(hit.material_id)) for hit in result.hits]
    return SearchResult(hits=hits, total=result.total, facets=result.facets, match=result.match,
                        next_offset=result.next_offset)


def _with_negotiated(hit: SearchHit, price: Decimal | None) -> SearchHit:
    if price is None or (hit.best_price is not None and hit.best_price <= price):
        return hit
    return hit.with_price(price, "price_list")


async def _negotiated_prices(session: AsyncSession, buyer_org_id: uuid.UUID,
                             material_ids: list[uuid.UUID]) -> dict[uuid.UUID, Decimal]:
    """Lowest price-list price granted to this buyer; row-level security already hides everyone else's lists."""
    if not material_ids:
        return {}
    today = func.current_date()
    rows = await session.execute(
        select(PriceListLine.material_id, func.min(PriceListLine.unit_price))
        .join(PriceList, PriceList.id == PriceListLine.price_list_id)
        .where(PriceListLine.material_id.in_(material_ids), PriceListLine.buyer_org_id == buyer_org_id,
               PriceList.currency == CATALOGUE_CURRENCY, PriceList.valid_from <= today,
               or_(PriceList.valid_to.is_(None), PriceList.valid_to >= today))
        .group_by(PriceListLine.material_id)
    )
    return {material_id: price for material_id, price in rows}


async def index_materials(backend: SearchBackend, material_ids: Sequence[uuid.UUID]) -> int:
    """Bring these materials' search entries up to date (idempotent: re-reads each by id)."""
    return await backend.index_materials(material_ids)


async def material_id_batches(session: AsyncSession, *, batch_size: int = REINDEX_BATCH
                              ) -> AsyncIterator[list[uuid.UUID]]:
    """Every material id in batches, by class then id (keyset, so a big catalogue is never loaded at once).

    Class order lays a rebuilt ``material_search_facts`` out by class on disk: the hits of a broad word
    ("bolt", "bearing") mostly share a few classes, so their rows share a few pages (docs/search.md)."""
    last: tuple[str, uuid.UUID] | None = None
    while True:
        statement = (select(Material.class_code, Material.id).order_by(Material.class_code, Material.id)
                     .limit(batch_size))
        if last is not None:
            statement = statement.where(tuple_(Material.class_code, Material.id) > tuple_(*last))
        rows = (await session.execute(statement)).all()
        if not rows:
            return
        yield [row.id for row in rows]
        last = (rows[-1].class_code, rows[-1].id)
