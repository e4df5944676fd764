"""What the PostgreSQL search's speed work must not change (results) and must keep (index layout)."""

import importlib

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Material
from catalog.search.postgres import PostgresSearch
from catalog.search.query import SearchQuery, SortOrder, highlight
from catalog.search.service import material_id_batches
from tests.catalog.search_world import World, add_offer, build_world
from tests.catalog.test_search_postgres import codes_for

migration = importlib.import_module("migrations.versions.0100_search_gin_without_pending_lists")


@pytest.fixture
async def world(session: AsyncSession) -> World:
    world = await build_world(session)
    await PostgresSearch(session).index_materials(world.ids())
    return world


def test_highlight_joins_touching_and_overlapping_terms_and_escapes() -> None:
    assert highlight("Stainless <bolt> M8", {"stain", "less", "bolt", "m8"}) == (
        "<em>Stainless</em> &lt;<em>bolt</em>&gt; <em>M8</em>")
    assert highlight("不锈钢六角螺栓", {"不锈钢六", "六角", "螺栓"}) == "<em>不锈钢六角螺栓</em>"
    assert highlight("a&b", set()) == "a&amp;b"
    assert highlight("M8 螺栓螺栓螺栓", {"螺栓螺栓"}) == "M8 <em>螺栓螺栓螺栓</em>"  # a term overlapping itself


async def test_text_sorted_by_price_is_in_price_order(session: AsyncSession, world: World) -> None:
    # given two bolts matching "hex bolt": ss 0.95 CNY, cs 2.50 CNY (relevance is not computed for this sort)
    m = world.materials
    assert await codes_for(session, text="hex bolt", sort=SortOrder.PRICE_DESC) == [m["cs_bolt"].code,
                                                                                  m["ss_bolt"].code]
    assert await codes_for(session, text="hex bolt", sort=SortOrder.PRICE) == [m["ss_bolt"].code, m["cs_bolt"].code]


async def test_price_facet_buckets_at_their_bounds(session: AsyncSession) -> None:
    # given nuts priced exactly on a bound and just below it
    built = await build_world(session)
    await add_offer(session, built.supplier_a, built.materials["nut"], "SA-NUT-10", ["10"])
    await add_offer(session, built.supplier_b, built.materials["bearing"], "B-9999", ["9.9999"])
    await PostgresSearch(session).index_materials(built.ids())
    # when
    result = await PostgresSearch(session).search(SearchQuery(sort=SortOrder.CODE))
    # then 10 is in 10–100 and 9.9999 in 1–10 (with the bolts' 0.95 and 2.50)
    assert [(f.label_en, f.count) for f in result.facets.price_ranges] == [("<1", 1), ("1–10", 2), ("10–100", 1)]


async def test_search_gin_indexes_have_no_pending_list(session: AsyncSession) -> None:
    rows = (await session.execute(text(
        "SELECT relname, reloptions FROM pg_class WHERE relname = ANY(:names)"),
        {"names": list(migration.SEARCH_GIN_INDEXES)})).all()
    assert {name: options for name, options in rows} == {
        name: ["fastupdate=off"] for name in migration.SEARCH_GIN_INDEXES}


async def test_reindex_batches_go_by_class_then_id_without_gaps(session: AsyncSession, world: World) -> None:
    batches = [batch async for batch in material_id_batches(session, batch_size=2)]
    expected = (await session.scalars(select(Material.id).order_by(Material.class_code, Material.id))).all()
    assert [material_id for batch in batches for material_id in batch] == list(expected)
    assert all(len(batch) <= 2 for batch in batches)
