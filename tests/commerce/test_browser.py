"""RFQ → quotation → award, and framework → signatures → call-off, in headless Chromium (Chinese pages)."""

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.browser import browser, live_server, page  # noqa: F401 - fixtures
from tests.commerce_factories import Market, make_market
from tests.conftest import truncate_all
from tests.factories import PASSWORD
from tradeloom.db import make_sessionmaker, utcnow

pytestmark = pytest.mark.browser


@pytest.fixture
async def market(engine: AsyncEngine) -> AsyncIterator[Market]:
    """Committed for real (the live server has its own connections); emptied afterwards."""
    async with make_sessionmaker(engine)() as session, session.begin():
        made = await make_market(session)
    yield made
    await truncate_all(engine)


async def sign_in(page: Page, live_server: str, email: str) -> None:  # noqa: F811
    await page.goto(f"{live_server}/lang/zh_CN?next=/")
    await page.get_by_label("邮箱").fill(email)
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page.locator("h1")).to_contain_text("欢迎")


async def supplier_page(browser: Browser, live_server: str, email: str) -> Page:  # noqa: F811
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    opened = await context.new_page()
    await sign_in(opened, live_server, email)
    return opened


async def test_rfq_quote_and_award(
    page: Page, browser: Browser, live_server: str, market: Market, engine: AsyncEngine, tmp_path: Path  # noqa: F811
) -> None:
    # given the buyer publishes an RFQ with the wizard, inviting one supplier
    await sign_in(page, live_server, market.buyer.user.email)
    await page.goto(f"{live_server}/rfqs/new")
    await page.get_by_label("标题").fill("M8 螺栓季度采购")
    await page.get_by_label("报价截止时间（UTC）").fill((utcnow() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    await page.locator("input[name=line-0-material_code]").fill(market.bolt.code)
    await page.locator("input[name=line-0-quantity]").fill("5000")
    await page.locator("input[name=line-0-required_date]").fill("2027-01-15")
    await page.locator(f"input[name=supplier][value='{market.suppliers[0].org.id}']").check()
    await page.get_by_role("button", name="发布询价").click()
    await expect(page.locator("h1")).to_have_text("M8 螺栓季度采购")
    rfq_url = page.url
    # when the supplier finds it in its inbox and quotes per box
    seller = await supplier_page(browser, live_server, market.suppliers[0].user.email)
    await seller.goto(f"{live_server}/rfqs")
    await seller.get_by_role("link", name="M8 螺栓季度采购").click()
    await seller.locator("input[name^=price-]").fill("9.50")
    await seller.locator("input[name^=unit-]").fill("BX")
    await seller.get_by_label("报价有效期至").fill("2027-01-31")
    await seller.get_by_role("button", name="提交报价").click()
    await expect(seller.get_by_text("第 1 次报价")).to_be_visible()
    await seller.screenshot(path=str(tmp_path / "quotation-zh.png"), full_page=True)
    # and the buyer sees nothing until the deadline has passed
    await page.reload()
    await expect(page.get_by_text("截止时间前报价保持密封。")).to_be_visible()
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE rfqs SET deadline = now() - interval '1 minute'"))
        await conn.execute(text("UPDATE quotations SET sealed_until = now() - interval '1 minute'"))
        await conn.execute(text("UPDATE quotation_lines SET sealed_until = now() - interval '1 minute'"))
    await page.reload()
    # then the matrix shows the price per piece and the buyer awards a spot contract
    await expect(page.locator("#comparison")).to_contain_text("0.095 / H87")
    await page.get_by_label("授标数量").fill("5000")
    await page.get_by_role("button", name="授标", exact=True).click()
    await expect(page.locator("#awards")).to_contain_text("5000 H87")
    await page.screenshot(path=str(tmp_path / "award-zh.png"), full_page=True)
    assert page.url == rfq_url
    assert (tmp_path / "award-zh.png").stat().st_size > 10_000


async def test_framework_signed_by_both_then_called_off(
    page: Page, browser: Browser, live_server: str, market: Market, tmp_path: Path  # noqa: F811
) -> None:
    # given the buyer drafts a framework agreement on the contracts page
    await sign_in(page, live_server, market.buyer.user.email)
    await page.goto(f"{live_server}/contracts")
    await page.locator("select[name=supplier]").select_option(str(market.suppliers[0].org.id))
    await page.get_by_label("标题").fill("紧固件框架协议")
    await page.get_by_label("生效日期").fill(utcnow().date().isoformat())
    await page.get_by_label("物料编码").fill(market.bolt.code)
    await page.get_by_label("基本单位单价").fill("0.09")
    await page.get_by_label("数量上限").fill("10000")
    await page.get_by_role("button", name="起草协议").click()
    await expect(page.locator("#status")).to_have_text("待签署")
    contract_url = page.url
    # when both parties sign
    await page.get_by_role("button", name="签署").click()
    seller = await supplier_page(browser, live_server, market.suppliers[0].user.email)
    await seller.goto(contract_url)
    await seller.get_by_role("button", name="签署").click()
    await expect(seller.locator("#status")).to_have_text("已生效")
    # then the buyer calls off and the agreement is drawn down
    await page.reload()
    await page.locator("input[name^=quantity-]").fill("4000")
    await page.get_by_role("button", name="提交订单").click()
    await expect(page.locator("#value-drawn")).to_have_text("360")
    await expect(page.locator("#call-offs")).to_contain_text("360 CNY")
    await page.screenshot(path=str(tmp_path / "call-off-zh.png"), full_page=True)
    assert (tmp_path / "call-off-zh.png").stat().st_size > 10_000
