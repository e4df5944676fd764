"""Scorecard pages in a real browser: the buyer's list (zh), a supplier's scorecard with its trend chart, a review
posted from the page, the English page, and the supplier's own scorecard. Screenshots go to tmp_path."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.browser import browser, live_server  # noqa: F401 - fixtures
from tests.commerce.orders.test_pages_browser import sign_in
from tests.conftest import truncate_all
from tests.logistics_factories import LogisticsWorld, make_logistics_world
from tests.supplier_performance_factories import delivered, set_status
from tradeloom.db import make_sessionmaker

pytestmark = pytest.mark.browser


@pytest.fixture
async def committed(engine: AsyncEngine) -> AsyncIterator[LogisticsWorld]:
    """A late delivery with 2 of 10 boxes rejected, its order closed, committed for the live server."""
    async with make_sessionmaker(engine)() as session, session.begin():
        world = await make_logistics_world(session)
        order, _ = await delivered(session, world, due_in_days=-2, accepted="8", rejected="2")
        await set_status(session, order.id, "closed")
    yield world
    await truncate_all(engine)


async def test_buyer_scorecards_chart_and_review(
    browser: Browser, live_server: str, committed: LogisticsWorld, tmp_path: Path  # noqa: F811
) -> None:
    supplier = committed.orders.supplier
    # given the buyer on its supplier scorecards, in Chinese
    page = await sign_in(browser, live_server, committed.orders.buyer, "/suppliers/scorecards")
    await expect(page.get_by_role("heading", name="供应商绩效")).to_be_visible()
    row = page.locator(f'tr[data-supplier="{supplier.org.id}"]')
    await expect(row).to_contain_text(supplier.org.name_zh)
    await expect(page.get_by_role("link", name="导出 XLSX")).to_be_visible()
    await page.screenshot(path=str(tmp_path / "1-list.png"), full_page=True)
    # when it opens the supplier's scorecard
    await row.get_by_role("link").click()
    # then its own score and the platform score are shown, with a 12-month trend chart
    await expect(page.locator(".score-card")).to_have_count(2)
    await expect(page.locator(".score-card").first).to_contain_text("准时交货")
    await page.wait_for_function("window.scoreTrend && window.scoreTrend.data.labels.length === 12")
    # when it rates the closed order
    await page.get_by_label("星级").select_option("4")
    await page.get_by_label("评语").fill("包装完好")
    await page.get_by_role("button", name="提交评价").click()
    # then the review is listed and the order can no longer be reviewed
    await expect(page.locator(".reviews")).to_contain_text("★ 4")
    await expect(page.locator(".review-form")).to_have_count(0)
    await page.screenshot(path=str(tmp_path / "2-scorecard.png"), full_page=True)
    # and the same page reads in English
    url = page.url.removeprefix(live_server)
    await page.goto(f"{live_server}/lang/en?next={url}")
    await expect(page.get_by_role("heading", name="Score trend")).to_be_visible()
    await expect(page.locator(".score-card").first).to_contain_text("On-time delivery")


async def test_supplier_sees_its_own_scorecard(
    browser: Browser, live_server: str, committed: LogisticsWorld, tmp_path: Path  # noqa: F811
) -> None:
    supplier = committed.orders.supplier
    page = await sign_in(browser, live_server, supplier, f"/suppliers/{supplier.org.id}/scorecard")
    await expect(page.locator(".score-card")).to_have_count(1)
    await expect(page.locator(".score-card")).to_contain_text("我方绩效")
    await expect(page.locator(".score-card")).to_contain_text("质量")
    # and the menu entry leads it there too
    await page.goto(f"{live_server}/suppliers/scorecards")
    await page.wait_for_url(f"{live_server}/suppliers/{supplier.org.id}/scorecard")
    await page.screenshot(path=str(tmp_path / "supplier.png"), full_page=True)
