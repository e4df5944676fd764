"""GET /api/v1/catalog/search: members search the shared catalogue; private prices stay private; bad input is 4xx."""

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.search.postgres import PostgresSearch
from tests.catalog.search_world import World, add_price_list, build_world
from tests.factories import Member, make_member
from tradeloom.identity.roles import OrgKind, Role

URL = "/api/v1/catalog/search"


@pytest.fixture
async def world(session: AsyncSession) -> World:
    world = await build_world(session)
    await PostgresSearch(session).index_materials(world.ids())
    return world


@pytest.fixture
async def buyer(session: AsyncSession) -> Member:
    return await make_member(session, roles=(Role.BUYER,), kind=OrgKind.BUYER)


async def test_search_returns_hits_and_facets(client: AsyncClient, world: World, buyer: Member) -> None:
    # when
    response = await client.get(URL, params={"q": "不锈钢 螺栓"}, headers=buyer.headers)
    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["match"], body["total"], body["next_cursor"]) == ("text", 1, None)
    hit = body["hits"][0]
    assert {key: hit[key] for key in ("code", "class_code", "best_price", "currency", "price_source",
                                      "supplier_count", "in_stock")} == {
        "code": world.materials["ss_bolt"].code, "class_code": "100101", "best_price": "0.9500",
        "currency": "CNY", "price_source": "offer", "supplier_count": 2, "in_stock": True}
    assert hit["highlight"]["name_zh"] == "<em>不锈钢</em>六角头<em>螺栓</em> M8×30"
    assert body["facets"]["classes"] == [{"value": "100101", "count": 1, "label_zh": "六角头螺栓",
                                          "label_en": "Hex head bolts"}]


async def test_negotiated_price_is_shown_only_to_its_buyer(
    client: AsyncClient, session: AsyncSession, world: World, buyer: Member
) -> None:
    # given supplier B grants this buyer 0.80 on the stainless bolt
    await add_price_list(session, world.supplier_b, buyer.org, world.materials["ss_bolt"], "0.80")
    other_buyer = await make_member(session, roles=(Role.BUYER,))
    supplier_b = await make_member(session, org=world.supplier_b, roles=(Role.SUPPLIER_SALES,))
    # when / then
    seen = {}
    for name, member in (("buyer", buyer), ("other", other_buyer), ("supplier", supplier_b)):
        hit = (await client.get(URL, params={"q": "stainless"}, headers=member.headers)).json()["hits"][0]
        seen[name] = (hit["best_price"], hit["price_source"])
    assert seen == {"buyer": ("0.8000", "price_list"), "other": ("0.9500", "offer"),
                    "supplier": ("0.9500", "offer")}


async def test_cursor_pages_through_results(client: AsyncClient, world: World, buyer: Member) -> None:
    first = (await client.get(URL, params={"sort": "code", "limit": 3}, headers=buyer.headers)).json()
    second = (await client.get(URL, params={"sort": "code", "limit": 3, "cursor": first["next_cursor"]},
                               headers=buyer.headers)).json()
    codes = [hit["code"] for hit in first["hits"] + second["hits"]]
    assert (codes, second["next_cursor"]) == (sorted(m.code for n, m in world.materials.items() if n != "retired"),
                                              None)


@pytest.mark.parametrize(("params", "status", "code"), [
    ({"q": "螺" * 201}, 422, "validation_failed"),
    ({"q": "bolt\x00"}, 422, "search.query_invalid"),
    ({"cursor": "not-a-cursor!"}, 422, "cursor_invalid"),
    ({"cursor": "WyJ4Il0"}, 422, "cursor_invalid"),  # ["x"]
    ({"cursor": "WzEwMDAwMDBd"}, 422, "search.too_deep"),  # [1000000]
    ({"sort": "popularity"}, 422, "validation_failed"),
    ({"price_min": "10", "price_max": "1"}, 422, "search.price_range_invalid"),
    ({"price_min": "abc"}, 422, "validation_failed"),
    ({"class": "99"}, 422, "search.unknown_class"),
    ({"class": "1;drop"}, 422, "validation_failed"),
    ({"attr": "no-colon"}, 422, "search.attribute_filter_invalid"),
    ({"limit": "1000"}, 422, "validation_failed"),
])
async def test_bad_input_is_a_clear_problem(client: AsyncClient, world: World, buyer: Member,
                                            params: dict[str, str], status: int, code: str) -> None:
    response = await client.get(URL, params=params, headers=buyer.headers)
    assert (response.status_code, response.headers["content-type"], response.json()["code"]) == (
        status, "application/problem+json", code)


async def test_search_needs_a_signed_in_member(client: AsyncClient, world: World) -> None:
    response = await client.get(URL, params={"q": "bolt"})
    assert (response.status_code, response.json()["code"]) == (401, "unauthenticated")
