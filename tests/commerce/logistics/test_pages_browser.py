"""Logistics in a real browser, in Chinese: the supplier packs a shipment from the open order line, prints
its papers and dispatches it; the buyer finds it by typing the label's identifier and receives it.
Screenshots go to the test's tmp_path."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.browser import browser, live_server  # noqa: F401 - fixtures
from tests.commerce.orders.test_pages_browser import sign_in
from tests.conftest import truncate_all
from tests.logistics_factories import LogisticsWorld, confirmed_order, make_logistics_world, stock_up
from tradeloom.db import make_sessionmaker

pytestmark = pytest.mark.browser


@pytest.fixture
async def committed(engine: AsyncEngine) -> AsyncIterator[LogisticsWorld]:
    """500 bolts on the supplier's shelf and a confirmed order of 300, committed for real."""
    async with make_sessionmaker(engine)() as session, session.begin():
        world = await make_logistics_world(session)
        await stock_up(session, world)
        await confirmed_order(session, world)
    yield world
    await truncate_all(engine)


async def test_pack_dispatch_and_receive(
    browser: Browser, live_server: str, committed: LogisticsWorld, tmp_path: Path  # noqa: F811
) -> None:
    world = committed
    # given the supplier's shipments page, where the confirmed order waits to be shipped
    supplier = await sign_in(browser, live_server, world.orders.supplier, "/logistics/shipments")
    await supplier.locator("#to-ship").get_by_role("link", name="创建发货单").click()
    # when 120 of the 300 pieces of batch B-0001 are packed and dispatched
    await supplier.get_by_label("本次发货 1").fill("120")
    await supplier.get_by_label("批次 1").fill("B-0001")
    await supplier.get_by_role("button", name="装箱").click()
    await expect(supplier.locator("#shipment-status")).to_have_attribute("data-status", "draft")
    await expect(supplier.locator("#items")).to_contain_text("B-0001")
    labels = await supplier.request.get(live_server + (await supplier.locator("#labels").get_attribute("href") or ""))
    assert (labels.status, (await labels.body())[:5]) == (200, b"%PDF-")
    await supplier.screenshot(path=str(tmp_path / "1-packed.png"), full_page=True)
    await supplier.get_by_role("button", name="发货", exact=True).click()
    # then it is dispatched
    await expect(supplier.locator("#shipment-status")).to_have_attribute("data-status", "dispatched")
    handle = (await supplier.locator("#items a").first.inner_text()).strip()

    # when the buyer types the label's identifier on the receiving page and confirms the receipt
    buyer = await sign_in(browser, live_server, world.orders.buyer, "/logistics/receive")
    await buyer.get_by_label("标识").fill(handle)
    await buyer.screenshot(path=str(tmp_path / "2-scan.png"), full_page=True)
    await buyer.get_by_role("button", name="查找发货单").click()
    await expect(buyer.locator("#receive")).to_be_visible()
    await buyer.get_by_label("已拒绝", exact=False).fill("2")
    await buyer.get_by_label("已接受", exact=False).fill("118")
    await buyer.screenshot(path=str(tmp_path / "3-receive.png"), full_page=True)
    await buyer.get_by_role("button", name="确认收货").click()
    # then the shipment is received
    await expect(buyer.locator("#shipment-status")).to_have_attribute("data-status", "received")
    await buyer.goto(f"{live_server}/logistics/stock")
    await expect(buyer.locator("#balances .available")).to_have_text("118")
    await buyer.screenshot(path=str(tmp_path / "4-stock.png"), full_page=True)

    # when the buyer asks to return 8 of them from the received shipment's page
    await buyer.go_back()
    await buyer.get_by_role("link", name="申请退货").click()
    await buyer.get_by_label("退货数量 B-0001").fill("8")
    await buyer.get_by_label("原因").fill("螺纹损坏")
    await buyer.screenshot(path=str(tmp_path / "5-return.png"), full_page=True)
    await buyer.get_by_role("button", name="提交退货申请").click()
    # and the supplier approves, the buyer ships them back, the supplier confirms their arrival
    await expect(buyer.locator("#returns .status")).to_have_attribute("data-status", "requested")
    await supplier.goto(f"{live_server}/logistics/returns")
    await supplier.get_by_role("button", name="批准").click()
    await buyer.reload()
    await buyer.get_by_label("运单号").fill("SF5550001")
    await buyer.get_by_role("button", name="退回发运").click()
    await expect(buyer.locator("#returns .status")).to_have_attribute("data-status", "shipped")
    await supplier.reload()
    await supplier.get_by_role("button", name="确认到货").click()
    # then the return is received and the 8 pieces have left the buyer's stock
    await expect(supplier.locator("#returns .status")).to_have_attribute("data-status", "received")
    await supplier.screenshot(path=str(tmp_path / "6-returns.png"), full_page=True)
    await buyer.goto(f"{live_server}/logistics/stock")
    await expect(buyer.locator("#balances .available")).to_have_text("110")
