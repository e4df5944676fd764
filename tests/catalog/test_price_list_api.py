"""Price lists over HTTP: private between one supplier and one buyer (RLS), and the price and comparison queries."""

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Material
from tests.factories import Member, make_member
from tests.materials_factories import make_material, make_offer, price_list_body
from tradeloom.identity.roles import OrgKind, Role

API = "/api/v1/catalog"


@pytest.fixture
async def supplier(session: AsyncSession) -> Member:
    return await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER)


@pytest.fixture
async def buyer(session: AsyncSession) -> Member:
    return await make_member(session, roles=(Role.BUYER, Role.SUPPLIER_SALES), kind=OrgKind.BUYER)


@pytest.fixture
async def other_buyer(session: AsyncSession) -> Member:
    return await make_member(session, roles=(Role.BUYER,), kind=OrgKind.BUYER)


@pytest.fixture
async def bolt(session: AsyncSession, supplier: Member, buyer: Member, other_buyer: Member) -> Material:
    material = await make_material(session, supplier)
    await make_offer(session, supplier, material.id, valid_to=None)
    return material


async def _create(client: AsyncClient, supplier: Member, buyer: Member, bolt: Material) -> dict[str, object]:
    response = await client.post(f"{API}/price-lists", json=price_list_body(buyer.org.id, bolt.id),
                                 headers=supplier.headers | {"Idempotency-Key": f"price-list-{buyer.org.id}"})
    assert response.status_code == 201
    return dict(response.json())


class TestVisibility:
    async def test_only_the_supplier_and_that_buyer_see_it(
        self, client: AsyncClient, supplier: Member, buyer: Member, other_buyer: Member, bolt: Material
    ) -> None:
        created = await _create(client, supplier, buyer, bolt)
        url = f"{API}/price-lists/{created['id']}"
        assert created["lines"] == [
            {"material_id": str(bolt.id), "min_quantity": "0", "unit_price": "0.1"},
            {"material_id": str(bolt.id), "min_quantity": "1000", "unit_price": "0.08"},
        ]
        assert (await client.get(url, headers=supplier.headers)).json() == created
        assert (await client.get(url, headers=buyer.headers)).json() == created
        hidden = await client.get(url, headers=other_buyer.headers)
        assert (hidden.status_code, hidden.json()["code"]) == (404, "catalog.price_list_not_found")
        assert [p["id"] for p in (await client.get(f"{API}/price-lists", headers=buyer.headers)).json()["items"]] == [
            created["id"]]
        assert (await client.get(f"{API}/price-lists", headers=other_buyer.headers)).json()["items"] == []

    async def test_the_buyer_reads_but_cannot_change_it(
        self, client: AsyncClient, supplier: Member, buyer: Member, bolt: Material
    ) -> None:
        created = await _create(client, supplier, buyer, bolt)
        url = f"{API}/price-lists/{created['id']}"
        response = await client.patch(url, json={"name": "better prices"}, headers=buyer.headers | {"If-Match": '"1"'})
        assert (response.status_code, response.json()["code"]) == (404, "catalog.price_list_not_found")

    async def test_the_supplier_replaces_lines_with_if_match(
        self, client: AsyncClient, supplier: Member, buyer: Member, bolt: Material
    ) -> None:
        created = await _create(client, supplier, buyer, bolt)
        url = f"{API}/price-lists/{created['id']}"
        lines = [{"material_id": str(bolt.id), "min_quantity": "0", "unit_price": "0.09"}]
        updated = await client.patch(url, json={"lines": lines}, headers=supplier.headers | {"If-Match": '"1"'})
        stale = await client.patch(url, json={"name": "x"}, headers=supplier.headers | {"If-Match": '"1"'})
        assert (updated.status_code, updated.headers["etag"], len(updated.json()["lines"])) == (200, '"2"', 1)
        assert (stale.status_code, stale.json()["code"]) == (412, "version_conflict")

    @pytest.mark.parametrize(("overrides", "code"), [
        ({"kind": "secret"}, "validation_failed"),
        ({"valid_to": "2025-01-01"}, "catalog.invalid_validity"),
        ({"lines": [{"material_id": "00000000-0000-4000-8000-000000000000", "unit_price": "1"}]},
         "catalog.unknown_material"),
    ])
    async def test_bad_lists_are_refused(self, client: AsyncClient, supplier: Member, buyer: Member,
                                         bolt: Material, overrides: dict[str, object], code: str) -> None:
        response = await client.post(f"{API}/price-lists", json=price_list_body(buyer.org.id, bolt.id) | overrides,
                                     headers=supplier.headers)
        assert (response.status_code, response.json()["code"]) == (422, code)

    async def test_a_list_is_for_another_organization_that_buys(
        self, client: AsyncClient, supplier: Member, bolt: Material, session: AsyncSession
    ) -> None:
        seller_only = await make_member(session, kind=OrgKind.SUPPLIER)
        for buyer_org_id in (supplier.org.id, seller_only.org.id):
            response = await client.post(f"{API}/price-lists", json=price_list_body(buyer_org_id, bolt.id),
                                         headers=supplier.headers)
            assert (response.status_code, response.json()["code"]) == (422, "catalog.invalid_buyer")

    async def test_a_buying_organization_grants_no_prices(
        self, client: AsyncClient, buyer: Member, other_buyer: Member, bolt: Material
    ) -> None:
        response = await client.post(f"{API}/price-lists", json=price_list_body(other_buyer.org.id, bolt.id),
                                     headers=buyer.headers)
        assert (response.status_code, response.json()["code"]) == (403, "catalog.not_a_supplier")


class TestPriceQueries:
    async def test_the_price_for_the_caller_and_the_comparison(
        self, client: AsyncClient, supplier: Member, buyer: Member, other_buyer: Member, bolt: Material
    ) -> None:
        created = await _create(client, supplier, buyer, bolt)
        params = {"material_id": str(bolt.id), "quantity": "250", "unit": "H87", "on_date": "2026-11-25"}
        mine = (await client.get(f"{API}/price", params=params, headers=buyer.headers)).json()
        theirs = (await client.get(f"{API}/price", params=params, headers=other_buyer.headers)).json()
        assert (mine["rule"], mine["price_list_id"], mine["unit_price"], mine["line_total"]) == (
            "customer_price_list", created["id"], "10", "40")
        assert (theirs["rule"], theirs["unit_price"], theirs["line_total"], theirs["order_quantity"]) == (
            "offer_price_break", "12", "48", "4")
        assert theirs["adjustments"] == ["rounded up to whole packs of 2 BX"]
        comparison = (await client.get(f"{API}/materials/{bolt.id}/comparison",
                                       params={"quantity": "250", "unit": "H87", "on_date": "2026-11-25"},
                                       headers=other_buyer.headers)).json()
        assert [q["line_total"] for q in comparison["quotes"]] == ["48"]
        assert (comparison["requested_quantity"], comparison["on_date"]) == ("250", "2026-11-25")

    @pytest.mark.parametrize(("params", "status", "code"), [
        ({"quantity": "-1", "unit": "H87"}, 422, "validation_failed"),
        ({"quantity": "abc", "unit": "H87"}, 422, "validation_failed"),
        ({"quantity": "2", "unit": "KGM"}, 422, "catalog.incompatible_units"),
        ({"quantity": "2", "unit": "ZZZ"}, 422, "catalog.unknown_unit"),
    ])
    async def test_bad_queries_are_4xx(self, client: AsyncClient, buyer: Member, bolt: Material,
                                       params: dict[str, str], status: int, code: str) -> None:
        response = await client.get(f"{API}/price", params={"material_id": str(bolt.id)} | params,
                                    headers=buyer.headers)
        assert (response.status_code, response.json()["code"]) == (status, code)
