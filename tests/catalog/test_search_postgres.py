"""PostgreSQL catalogue search: zh/en words, synonyms, typos, identifiers, facets, sorting, paging."""

from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.search.postgres import PostgresSearch
from catalog.search.query import MatchKind, SearchQuery, SortOrder
from tests.catalog.search_world import GTIN, World, build_world
from tradeloom.errors import Invalid


@pytest.fixture
async def world(session: AsyncSession) -> World:
    world = await build_world(session)
    await PostgresSearch(session).index_materials(world.ids())
    return world


async def codes_for(session: AsyncSession, **query: object) -> list[str]:
    result = await PostgresSearch(session).search(SearchQuery(**query))  # type: ignore[arg-type]
    return [hit.code for hit in result.hits]


class TestText:
    async def test_chinese_words_find_the_bolt(self, session: AsyncSession, world: World) -> None:
        assert await codes_for(session, text="不锈钢螺栓") == [world.materials["ss_bolt"].code]

    async def test_english_words_find_the_bolt(self, session: AsyncSession, world: World) -> None:
        assert await codes_for(session, text="stainless bolt M8x30") == [world.materials["ss_bolt"].code]

    async def test_synonyms_cross_languages(self, session: AsyncSession, world: World) -> None:
        # given a Chinese name and an English query (and the other way round)
        assert await codes_for(session, text="bearing") == [world.materials["bearing"].code]
        assert set(await codes_for(session, text="hex bolt")) == {world.materials["ss_bolt"].code,
                                                                 world.materials["cs_bolt"].code}

    async def test_ss304_is_stainless_one_way(self, session: AsyncSession, world: World) -> None:
        # the bolt's attribute says SS304: a search for stainless finds it, SS316 does not
        assert await codes_for(session, text="不锈钢") == [world.materials["ss_bolt"].code]
        assert await codes_for(session, text="SS316") == []

    async def test_typo_falls_back_to_fuzzy(self, session: AsyncSession, world: World) -> None:
        result = await PostgresSearch(session).search(SearchQuery(text="stainles stel bolt"))
        assert result.match is MatchKind.FUZZY
        assert result.hits[0].code == world.materials["ss_bolt"].code

    async def test_prefix_of_last_word(self, session: AsyncSession, world: World) -> None:
        assert await codes_for(session, text="bear") == [world.materials["bearing"].code]

    async def test_highlight_marks_matched_terms(self, session: AsyncSession, world: World) -> None:
        result = await PostgresSearch(session).search(SearchQuery(text="不锈钢"))
        assert result.hits[0].highlight["name_zh"] == "<em>不锈钢</em>六角头螺栓 M8×30"

    async def test_retired_material_is_not_searchable(self, session: AsyncSession, world: World) -> None:
        assert await codes_for(session, text="旧编码螺栓") == []


class TestExactLookups:
    async def test_material_code(self, session: AsyncSession, world: World) -> None:
        result = await PostgresSearch(session).search(SearchQuery(text=world.materials["nut"].code.lower()))
        assert (result.match, [hit.code for hit in result.hits]) == (MatchKind.EXACT, [world.materials["nut"].code])

    async def test_retired_code_leads_to_its_successor(self, session: AsyncSession, world: World) -> None:
        assert await codes_for(session, text=world.materials["retired"].code) == [world.materials["ss_bolt"].code]

    @pytest.mark.parametrize("scan", [GTIN, "0" + GTIN, f"(01)0{GTIN}(10)LOT7", f"010{GTIN}10LOT7",
                                      f"https://id.gs1.org/01/0{GTIN}/10/LOT7",
                                      f"010{GTIN}10LOT7\x1d17271231"])
    async def test_gtin_and_scans(self, session: AsyncSession, world: World, scan: str) -> None:
        result = await PostgresSearch(session).search(SearchQuery(text=scan))
        assert (result.match, [hit.code for hit in result.hits]) == (MatchKind.EXACT,
                                                                     [world.materials["ss_bolt"].code])

    async def test_supplier_part_number(self, session: AsyncSession, world: World) -> None:
        assert await codes_for(session, text="b-6204-2rs") == [world.materials["bearing"].code]

    async def test_mistyped_part_number_is_found_fuzzily(self, session: AsyncSession, world: World) -> None:
        result = await PostgresSearch(session).search(SearchQuery(text="SA-BOLT-M8-3O"))
        assert result.match is MatchKind.FUZZY
        assert result.hits[0].code == world.materials["ss_bolt"].code


class TestFacetsAndSorting:
    async def test_facets_count_the_filtered_hits(self, session: AsyncSession, world: World) -> None:
        result = await PostgresSearch(session).search(SearchQuery(text="螺栓", class_code="100101"))
        assert result.total == 2
        assert [(f.value, f.count, f.label_en) for f in result.facets.classes] == [("100101", 2, "Hex head bolts")]
        assert {(f.value, f.count) for f in result.facets.attributes["thread"]} == {("M8", 1), ("M10", 1)}
        assert {(f.value, f.count) for f in result.facets.suppliers} == {(str(world.supplier_a.id), 2),
                                                                         (str(world.supplier_b.id), 1)}
        assert [(f.label_en, f.count) for f in result.facets.price_ranges] == [("<1", 1), ("1–10", 1)]
        assert {(f.value, f.count) for f in result.facets.in_stock} == {("true", 1), ("false", 1)}

    async def test_hit_shows_best_public_price_and_suppliers(self, session: AsyncSession, world: World) -> None:
        result = await PostgresSearch(session).search(SearchQuery(text="stainless"))
        hit = result.hits[0]
        assert (hit.best_price, hit.price_source, hit.supplier_count, hit.in_stock, hit.lead_time_days) == (
            Decimal("0.9500"), "offer", 2, True, 3)

    async def test_filters(self, session: AsyncSession, world: World) -> None:
        assert await codes_for(session, in_stock=True, sort=SortOrder.CODE) == [
            world.materials["ss_bolt"].code, world.materials["bearing"].code]
        assert await codes_for(session, price_min=Decimal(2), price_max=Decimal(40), sort=SortOrder.PRICE) == [
            world.materials["cs_bolt"].code, world.materials["bearing"].code]
        assert await codes_for(session, supplier_id=world.supplier_b.id, sort=SortOrder.CODE) == [
            world.materials["ss_bolt"].code, world.materials["bearing"].code]
        assert await codes_for(session, class_code="10", attributes=(("thread", "M8"),), sort=SortOrder.CODE) == [
            world.materials["ss_bolt"].code, world.materials["nut"].code]

    async def test_sort_orders(self, session: AsyncSession, world: World) -> None:
        m = world.materials
        assert await codes_for(session, sort=SortOrder.PRICE_DESC) == [
            m["bearing"].code, m["cs_bolt"].code, m["ss_bolt"].code, m["nut"].code]
        assert await codes_for(session, sort=SortOrder.LEAD_TIME) == [
            m["cs_bolt"].code, m["ss_bolt"].code, m["bearing"].code, m["nut"].code]

    async def test_pages(self, session: AsyncSession, world: World) -> None:
        first = await PostgresSearch(session).search(SearchQuery(sort=SortOrder.CODE, limit=3))
        second = await PostgresSearch(session).search(SearchQuery(sort=SortOrder.CODE, limit=3, offset=3))
        assert (first.total, first.next_offset, len(second.hits), second.next_offset) == (4, 3, 1, None)

    async def test_unknown_class_is_invalid(self, session: AsyncSession, world: World) -> None:
        with pytest.raises(Invalid, match="no material class"):
            await PostgresSearch(session).search(SearchQuery(class_code="99"))


class TestIndexing:
    async def test_reindex_is_idempotent_and_follows_status(self, session: AsyncSession, world: World) -> None:
        backend = PostgresSearch(session)
        assert await backend.index_materials(world.ids()) == 4
        world.materials["nut"].status = "blocked"
        await session.flush()
        assert await backend.index_materials([world.materials["nut"].id]) == 0
        assert await codes_for(session, text="螺母") == []
