"""Change requests in a real browser, in Chinese: the supplier proposes fewer boxes on a confirmed order, the
buyer finds the request under 变更请求 and accepts it; the order shows the new quantity and totals.
Screenshots go to the test's tmp_path."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy.ext.asyncio import AsyncEngine

from commerce.orders.models import PurchaseOrder
from commerce.orders.service import transitions
from tests.browser import browser, live_server  # noqa: F401 - fixtures
from tests.commerce.orders.test_pages_browser import sign_in
from tests.conftest import truncate_all
from tests.materials_factories import act_as, owner_actor
from tests.orders_factories import OrderWorld, make_world, place_order
from tradeloom.db import make_sessionmaker

pytestmark = pytest.mark.browser


@pytest.fixture
async def confirmed(engine: AsyncEngine) -> AsyncIterator[tuple[OrderWorld, PurchaseOrder]]:
    """The order world and an order of 3 BX confirmed as ordered, committed for the live server."""
    async with make_sessionmaker(engine)() as session, session.begin():
        world = await make_world(session)
        order = await place_order(session, world)
        order = await transitions.submit_order(session, actor=owner_actor(world.buyer), order_id=order.id,
                                               expected_version=order.version)
        await act_as(session, world.supplier)
        order = await transitions.confirm_order(session, actor=owner_actor(world.supplier), order_id=order.id,
                                                expected_version=order.version)
    yield world, order
    await truncate_all(engine)


async def test_supplier_proposes_buyer_accepts_in_chinese(
    browser: Browser, live_server: str, confirmed: tuple[OrderWorld, PurchaseOrder], tmp_path: Path  # noqa: F811
) -> None:
    world, order = confirmed
    # given the supplier proposes 2 boxes instead of 3 on the order page
    supplier = await sign_in(browser, live_server, world.supplier, f"/orders/{order.id}")
    await supplier.get_by_label("建议数量 1").fill("2")
    await supplier.get_by_label("原因").fill("库存不足")
    await supplier.get_by_role("button", name="提交变更").click()
    await expect(supplier.locator(".change-status")).to_have_text("待答复")
    await supplier.screenshot(path=str(tmp_path / "1-proposed.png"), full_page=True)

    # when the buyer opens its change requests and the order
    buyer = await sign_in(browser, live_server, world.buyer, "/orders/changes")
    await expect(buyer.locator("table.changes")).to_contain_text("库存不足")
    await buyer.get_by_role("link", name=order.number).click()
    await buyer.get_by_role("button", name="接受变更").click()

    # then the order has 2 boxes and the new totals, and the request is accepted
    await expect(buyer.locator(".change-status")).to_have_text("已接受")
    await expect(buyer.locator(".gross")).to_have_text("27.90 CNY")
    await expect(buyer.locator("table.lines")).to_contain_text("2 BX")
    await expect(buyer.locator(".timeline")).to_contain_text("变更已接受")
    await buyer.screenshot(path=str(tmp_path / "2-accepted.png"), full_page=True)
    assert all((tmp_path / name).stat().st_size > 10_000 for name in ("1-proposed.png", "2-accepted.png"))
