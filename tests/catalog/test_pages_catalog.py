"""Catalogue pages over HTTP: browse and search, material detail, supplier offers, imports, governance."""

import uuid
from dataclasses import dataclass

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.governance.dedupe import scan_for_duplicates
from catalog.imports.service import run_import
from catalog.models import Material
from catalog.search.postgres import PostgresSearch
from tests import catalog_governance_factories as governance
from tests.factories import Member, make_member
from tests.materials_factories import make_material, make_offer, make_price_list
from tests.tradeloom.test_pages import sign_in
from tradeloom.identity.roles import OrgKind, Role

HEADER = "class_code,name_zh,name_en,base_unit,attr:thread,attr:length_mm,attr:material\n"


@dataclass
class World:
    buyer: Member
    north: Member
    south: Member
    bolt: Material


@pytest.fixture
async def world(session: AsyncSession) -> World:
    """A buyer, two suppliers offering the bolt (12.00 and 11.00 a box), one of them with a customer price list."""
    buyer = await make_member(session, roles=(Role.BUYER,), email="buyer@catalog.test")
    north = await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER, email="north@catalog.test")
    south = await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER)
    bolt = await make_material(session, buyer)
    await make_offer(session, north, bolt.id, supplier_part_number="N-BOLT-8")
    await make_offer(session, south, bolt.id, supplier_part_number="S-BOLT-8",
                     price_tiers=[{"min_quantity": "2", "unit_price": "11.00"}])
    await make_price_list(session, north, buyer.org.id, bolt.id)
    await PostgresSearch(session).index_materials([bolt.id])
    return World(buyer, north, south, bolt)


async def switch_to(client: AsyncClient, locale: str) -> None:
    await client.get(f"/lang/{locale}?next=/")


class TestBrowse:
    async def test_search_in_chinese_lists_the_bolt_with_facets(self, client: AsyncClient, world: World) -> None:
        # given
        await sign_in(client, "buyer@catalog.test")
        await switch_to(client, "zh_CN")
        # when
        page = await client.get("/catalog", params={"q": "螺栓"})
        # then
        assert page.status_code == 200
        assert "<h1>目录</h1>" in page.text
        assert f'<a href="/catalog/materials/{world.bolt.id}">{world.bolt.code}</a>' in page.text
        assert "<em>螺栓</em>" in page.text
        assert f"supplier={world.north.org.id}" in page.text
        assert "您的协议价" in page.text  # 0.10 a bolt from the price list beats 0.11 from the offers

    async def test_english_names_and_filters(self, client: AsyncClient, world: World) -> None:
        await sign_in(client, "buyer@catalog.test")
        await switch_to(client, "en")
        page = await client.get("/catalog", params={"supplier": str(world.south.org.id), "class": "100101"})
        assert page.status_code == 200
        assert "Hex head bolt M8×40 SS304" in page.text
        assert "Materials found: 1" in page.text

    async def test_htmx_search_returns_only_the_results(self, client: AsyncClient, world: World) -> None:
        await sign_in(client, "buyer@catalog.test")
        page = await client.get("/catalog", params={"q": "bolt"}, headers={"HX-Request": "true"})
        assert page.status_code == 200
        assert "<html" not in page.text
        assert world.bolt.code in page.text

    async def test_pages_of_twenty(self, client: AsyncClient, session: AsyncSession, world: World) -> None:
        # given 22 bolts in all
        more = [await governance.make_material(session, owner_org_id=world.buyer.org.id) for _ in range(21)]
        await PostgresSearch(session).index_materials([material.id for material in more])
        await sign_in(client, "buyer@catalog.test")
        await switch_to(client, "en")
        # when
        first = await client.get("/catalog", params={"class": "100101"})
        second = await client.get("/catalog", params={"class": "100101", "offset": "20"})
        # then
        assert first.text.count('<a href="/catalog/materials/') == 20
        assert '<a href="/catalog?class=100101&amp;offset=20">Next</a>' in first.text
        assert second.text.count('<a href="/catalog/materials/') == 2
        assert '<a href="/catalog?class=100101&amp;offset=0">Previous</a>' in second.text

    @pytest.mark.parametrize("params", [{"price": "99"}, {"class": "abc"}, {"offset": "-1"}, {"supplier": "x"}])
    async def test_bad_filters_are_4xx(self, client: AsyncClient, world: World, params: dict[str, str]) -> None:
        await sign_in(client, "buyer@catalog.test")
        assert (await client.get("/catalog", params=params)).status_code == 422


class TestMaterial:
    async def test_offers_tiers_own_price_and_chart_in_chinese(self, client: AsyncClient, world: World) -> None:
        await sign_in(client, "buyer@catalog.test")
        await switch_to(client, "zh_CN")
        page = await client.get(f"/catalog/materials/{world.bolt.id}")
        assert page.status_code == 200
        assert "<h1>六角头螺栓 M8×40 SS304</h1>" in page.text
        assert "<dt>长度</dt><dd>40 mm</dd>" in page.text
        assert "≥ 10: 10.5" in page.text  # north's price breaks
        assert "10 CNY / BX (客户价)" in page.text  # the price list's 0.10 a bolt, per box of 100
        assert 'id="price-chart"' in page.text and "/static/vendor/chart.umd.min.js" in page.text

    async def test_english_page(self, client: AsyncClient, world: World) -> None:
        await sign_in(client, "buyer@catalog.test")
        await switch_to(client, "en")
        page = await client.get(f"/catalog/materials/{world.bolt.id}")
        assert "<h1>Hex head bolt M8×40 SS304</h1>" in page.text
        assert "11 CNY / BX" in page.text and "Offer price break" in page.text
        assert "<dt>material</dt><dd>SS304</dd>" in page.text

    async def test_an_unknown_material_is_404(self, client: AsyncClient, world: World) -> None:
        await sign_in(client, "buyer@catalog.test")
        assert (await client.get(f"/catalog/materials/{uuid.uuid4()}")).status_code == 404
        assert (await client.get("/catalog/materials/not-an-id")).status_code == 422


class TestOffers:
    async def test_the_supplier_sees_only_their_offers(self, client: AsyncClient, world: World) -> None:
        await sign_in(client, "north@catalog.test")
        await switch_to(client, "zh_CN")
        page = await client.get("/catalog/offers")
        assert page.status_code == 200
        assert "<h1>我的报价</h1>" in page.text
        assert "N-BOLT-8" in page.text and "S-BOLT-8" not in page.text

    async def test_create_an_offer_through_the_form(self, client: AsyncClient, world: World) -> None:
        csrf = await sign_in(client, "north@catalog.test")
        form = {"material_code": world.bolt.code, "supplier_part_number": "N-NEW-1", "currency": "CNY",
                "order_unit": "BX", "moq": "1", "pack_size": "1", "valid_from": "2026-01-01",
                "tier_qty_0": "1", "tier_price_0": "13.50"}
        refused = await client.post("/catalog/offers", data=form)
        created = await client.post("/catalog/offers", data=form | {"csrf_token": csrf})
        assert refused.status_code == 403
        assert created.status_code == 303
        assert "N-NEW-1" in (await client.get("/catalog/offers")).text

    async def test_a_bad_offer_is_shown_again_with_the_reason(self, client: AsyncClient, world: World) -> None:
        csrf = await sign_in(client, "north@catalog.test")
        response = await client.post("/catalog/offers", data={"csrf_token": csrf, "material_code": "NOPE"})
        assert response.status_code == 422
        assert 'role="alert"' in response.text


class TestImports:
    async def test_upload_progress_and_report(self, client: AsyncClient, world: World,
                                              sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        # given a signed-in buyer uploading a file with one bad row
        csrf = await sign_in(client, "buyer@catalog.test")
        await switch_to(client, "zh_CN")
        body = (HEADER + "100101,六角螺栓,Hex bolt,H87,M8,30,SS304\n100101,螺栓,Bolt,H87,M8,abc,SS304\n").encode()
        files = {"file": ("bolts.csv", body, "text/csv")}
        refused = await client.post("/catalog/imports", files=files, data={"kind": "materials"})
        # when
        uploaded = await client.post("/catalog/imports", files=files,
                                     data={"kind": "materials", "dry_run": "on", "csrf_token": csrf})
        # then it is queued and the page polls
        assert refused.status_code == 403
        assert uploaded.status_code == 303
        import_url = uploaded.headers["location"]
        queued = await client.get(import_url)
        assert 'hx-trigger="every 2s"' in queued.text and "排队中" in queued.text
        assert "bolts.csv" in (await client.get("/catalog/imports")).text
        # and once the job ran, the panel stops polling and shows the report
        await run_import(sessionmaker, org_id=world.buyer.org.id, import_id=uuid.UUID(import_url.rsplit("/", 1)[1]))
        done = await client.get(import_url, headers={"HX-Request": "true"})
        assert "hx-trigger" not in done.text and "已拒绝" in done.text
        assert "<td>3</td><td>attr:length_mm</td>" in done.text

    async def test_an_unreadable_upload_is_422(self, client: AsyncClient, world: World) -> None:
        csrf = await sign_in(client, "buyer@catalog.test")
        response = await client.post("/catalog/imports", files={"file": ("x.pdf", b"%PDF", "application/pdf")},
                                     data={"kind": "materials", "csrf_token": csrf})
        assert response.status_code == 422

    async def test_another_tenants_import_is_404(self, client: AsyncClient, world: World) -> None:
        csrf = await sign_in(client, "buyer@catalog.test")
        uploaded = await client.post("/catalog/imports", files={"file": ("b.csv", HEADER.encode(), "text/csv")},
                                     data={"kind": "materials", "csrf_token": csrf})
        await client.post("/logout", data={"csrf_token": csrf})
        await sign_in(client, "north@catalog.test")
        assert (await client.get(uploaded.headers["location"])).status_code == 404


class TestGovernance:
    async def test_duplicates_and_quality_and_dismissal(self, client: AsyncClient, session: AsyncSession,
                                                        world: World) -> None:
        # given two materials of the buyer that look like one
        first = await governance.make_material(session, owner_org_id=world.buyer.org.id)
        second = await governance.make_material(session, owner_org_id=world.buyer.org.id)
        await scan_for_duplicates(session)
        csrf = await sign_in(client, "buyer@catalog.test")
        await switch_to(client, "en")
        # when
        page = await client.get("/catalog/governance")
        # then
        assert page.status_code == 200
        assert first.code in page.text and second.code in page.text
        assert 'id="quality-chart"' in page.text
        action = page.text.split('action="/catalog/governance/duplicates/', 1)[1].split('"', 1)[0]
        assert (await client.post(f"/catalog/governance/duplicates/{action}", data={})).status_code == 403
        dismissed = await client.post(f"/catalog/governance/duplicates/{action}", data={"csrf_token": csrf})
        assert dismissed.status_code == 303
        assert "No open duplicate pairs." in (await client.get("/catalog/governance")).text

    async def test_zh_page_and_a_refused_merge(self, client: AsyncClient, world: World) -> None:
        csrf = await sign_in(client, "buyer@catalog.test")
        await switch_to(client, "zh_CN")
        assert "<h1>数据治理</h1>" in (await client.get("/catalog/governance")).text
        response = await client.post("/catalog/governance/merge", data={
            "csrf_token": csrf, "survivor_code": world.bolt.code, "retired_code": world.bolt.code})
        assert response.status_code == 422  # a material cannot be merged into itself
        assert 'role="alert"' in response.text
