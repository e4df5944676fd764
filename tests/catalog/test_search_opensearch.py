"""The OpenSearch backend against a real osmem-server process (an in-memory OpenSearch-compatible server).

Not against Elasticsearch or a real OpenSearch cluster: neither can be installed here. The same queries as
the PostgreSQL tests, so the two backends are held to the same semantics.
"""

import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
from opensearchpy import OpenSearch
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.search.opensearch import OpenSearchBackend
from catalog.search.query import MatchKind, SearchQuery, SortOrder
from tests.catalog.search_world import GTIN, World, build_world

osmem_server = pytest.importorskip("osmem_server", reason="osmem-server is not installed (pip install -e '.[dev]')")


@pytest.fixture(scope="session")
def search_server() -> Iterator[str]:
    server = osmem_server.OsmemServer.start()
    yield server.url
    server.close()


@pytest.fixture
async def backend(session: AsyncSession, search_server: str) -> OpenSearchBackend:
    return OpenSearchBackend(session, OpenSearch(hosts=[search_server]), index=f"materials-{uuid.uuid4().hex}")


@pytest.fixture
async def world(session: AsyncSession, backend: OpenSearchBackend) -> World:
    world = await build_world(session)
    assert await backend.index_materials(world.ids()) == 4
    return world


async def codes_for(backend: OpenSearchBackend, **query: object) -> list[str]:
    return [hit.code for hit in (await backend.search(SearchQuery(**query))).hits]  # type: ignore[arg-type]


async def test_chinese_and_english_words_with_synonyms(backend: OpenSearchBackend, world: World) -> None:
    m = world.materials
    assert await codes_for(backend, text="不锈钢螺栓") == [m["ss_bolt"].code]
    assert await codes_for(backend, text="stainless bolt M8x30") == [m["ss_bolt"].code]
    assert await codes_for(backend, text="bearing") == [m["bearing"].code]
    assert await codes_for(backend, text="SS316") == []


async def test_typo_falls_back_to_fuzzy(backend: OpenSearchBackend, world: World) -> None:
    result = await backend.search(SearchQuery(text="stainles bolt"))
    assert (result.match, result.hits[0].code) == (MatchKind.FUZZY, world.materials["ss_bolt"].code)


async def test_exact_identifiers(backend: OpenSearchBackend, world: World) -> None:
    m = world.materials
    assert await codes_for(backend, text=f"https://id.gs1.org/01/0{GTIN}") == [m["ss_bolt"].code]
    assert await codes_for(backend, text=m["retired"].code) == [m["ss_bolt"].code]
    assert await codes_for(backend, text="B-6204-2RS") == [m["bearing"].code]


async def test_facets_filters_and_sorting(backend: OpenSearchBackend, world: World) -> None:
    m = world.materials
    result = await backend.search(SearchQuery(text="螺栓", class_code="100101"))
    assert result.total == 2
    assert [(f.value, f.count) for f in result.facets.classes] == [("100101", 2)]
    assert {(f.value, f.count) for f in result.facets.attributes["thread"]} == {("M8", 1), ("M10", 1)}
    assert [(f.label_en, f.count) for f in result.facets.price_ranges] == [("<1", 1), ("1–10", 1)]
    assert {(f.value, f.count) for f in result.facets.in_stock} == {("true", 1), ("false", 1)}
    assert await codes_for(backend, sort=SortOrder.PRICE_DESC) == [
        m["bearing"].code, m["cs_bolt"].code, m["ss_bolt"].code, m["nut"].code]
    assert await codes_for(backend, price_min=Decimal(2), supplier_id=world.supplier_b.id) == [m["bearing"].code]
    hit = (await backend.search(SearchQuery(text="stainless"))).hits[0]
    assert (hit.best_price, hit.supplier_count, hit.in_stock) == (Decimal("0.9500"), 2, True)


async def test_removed_material_is_gone(backend: OpenSearchBackend, world: World) -> None:
    await backend.remove([world.materials["nut"].id])
    assert await codes_for(backend, text="螺母") == []
