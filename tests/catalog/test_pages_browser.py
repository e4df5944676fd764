"""The catalogue in a real browser: a buyer searches in Chinese, opens a material and sees its suppliers' offers."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncEngine

from catalog.models import Material, SupplierOffer
from catalog.search.postgres import PostgresSearch
from tests.browser import browser, live_server, page  # noqa: F401 - fixtures
from tests.commerce_factories import make_site
from tests.conftest import truncate_all
from tests.factories import PASSWORD, make_member
from tests.materials_factories import make_material, make_offer
from tradeloom.db import make_sessionmaker
from tradeloom.identity.roles import OrgKind, Role

pytestmark = pytest.mark.browser
EMAIL = "wang.fang@ecm.example"
SUPPLIER = "li.qiang@hengli.example"


async def sign_in_in_chinese(tab: Page, server: str, email: str, next_path: str) -> None:
    await tab.goto(f"{server}/lang/zh_CN?next={next_path}")
    await tab.get_by_label("邮箱").fill(email)
    await tab.get_by_label("密码").fill(PASSWORD)
    await tab.get_by_role("button", name="登录").click()


@pytest.fixture
async def bolt(engine: AsyncEngine) -> AsyncIterator[Material]:
    """A buyer and a bolt offered by two suppliers, committed for real (the live server has its own connections)."""
    async with make_sessionmaker(engine)() as session, session.begin():
        buyer = await make_member(session, roles=(Role.BUYER,), email=EMAIL)
        material = await make_material(session, buyer)
        for part, price in (("N-8", "12.00"), ("S-8", "11.00")):
            supplier = await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER)
            await make_offer(session, supplier, material.id, supplier_part_number=part,
                             price_tiers=[{"min_quantity": "2", "unit_price": price}])
        await PostgresSearch(session).index_materials([material.id])
    yield material
    await truncate_all(engine)


async def test_buyer_searches_in_chinese_and_opens_a_material(
    page: Page, live_server: str, bolt: Material, tmp_path: Path  # noqa: F811
) -> None:
    # given a buyer signed in in Chinese
    await sign_in_in_chinese(page, live_server, EMAIL, "/catalog")
    await expect(page.locator("h1")).to_have_text("目录")
    # when they search for 螺栓 and open the hit
    await page.get_by_label("搜索物料").fill("螺栓")
    await page.get_by_role("button", name="搜索", exact=True).click()
    await expect(page.locator("table.materials")).to_contain_text("六角头螺栓")
    await page.screenshot(path=str(tmp_path / "catalog-zh.png"), full_page=True)
    await page.get_by_role("link", name=bolt.code).click()
    # then the material shows both suppliers' offers and the price chart
    await expect(page.locator("h1")).to_have_text("六角头螺栓 M8×40 SS304")
    offers = page.locator("table.offers tbody tr")
    await expect(offers).to_have_count(2)
    await expect(offers.first).to_contain_text("11 CNY / BX")
    await expect(page.locator("#price-chart")).to_be_visible()
    await page.screenshot(path=str(tmp_path / "material-zh.png"), full_page=True)
    assert (tmp_path / "material-zh.png").stat().st_size > 10_000


@pytest.fixture
async def supplier_offer(engine: AsyncEngine) -> AsyncIterator[SupplierOffer]:
    """A supplier with one offer and a warehouse, committed for real."""
    async with make_sessionmaker(engine)() as session, session.begin():
        supplier = await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER, email=SUPPLIER)
        material = await make_material(session, supplier)
        offer = await make_offer(session, supplier, material.id, supplier_part_number="N-8")
        await make_site(session, supplier, code="WH-SUZHOU")
    yield offer
    await truncate_all(engine)


async def test_supplier_edits_an_offer_sets_stock_and_meets_a_conflict(
    page: Page, live_server: str, supplier_offer: SupplierOffer, tmp_path: Path  # noqa: F811
) -> None:
    # given a supplier signed in in Chinese, on their offer
    await sign_in_in_chinese(page, live_server, SUPPLIER, "/catalog/offers")
    await page.get_by_role("link", name="N-8").click()
    await expect(page.locator("h1")).to_have_text("N-8")
    # when they add a price break and save, then record stock at their warehouse
    await page.get_by_label("起始数量 4").fill("200")
    await page.get_by_label("单价 4").fill("8.50")
    await page.get_by_role("button", name="保存报价").click()
    await expect(page.locator("p.muted").first).to_contain_text("版本 2")
    await page.get_by_label("库存数量： WH-SUZHOU").fill("250")
    await page.get_by_role("button", name="更新库存").click()
    await expect(page.get_by_label("库存数量： WH-SUZHOU")).to_have_value("250")
    await page.screenshot(path=str(tmp_path / "offer-zh.png"), full_page=True)
    # and when someone else saves the offer while this form is open
    second = await page.context.new_page()
    await second.goto(page.url)
    await second.get_by_label("交货期（天）").fill("30")
    await second.get_by_role("button", name="保存报价").click()
    await page.get_by_label("最小起订量").fill("4")
    await page.get_by_role("button", name="保存报价").click()
    # then their change is refused, the page says why and shows the saved terms
    await expect(page.locator("p.alert.conflict")).to_contain_text("其他人已保存")
    await expect(page.get_by_label("交货期（天）")).to_have_value("30")
    await expect(page.get_by_label("最小起订量")).to_have_value("2")
    await page.screenshot(path=str(tmp_path / "offer-conflict-zh.png"), full_page=True)
    assert (tmp_path / "offer-conflict-zh.png").stat().st_size > 10_000
