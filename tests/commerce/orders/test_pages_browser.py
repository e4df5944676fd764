"""Orders in a real browser, in Chinese: the buyer orders from the cart, the approver approves, the supplier
confirms; each sees the order's state and timeline. Screenshots go to the test's tmp_path."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.browser import browser, live_server  # noqa: F401 - fixtures
from tests.conftest import truncate_all
from tests.factories import PASSWORD, Member
from tests.orders_factories import OrderWorld, add_rule, make_world
from tradeloom.db import make_sessionmaker

pytestmark = pytest.mark.browser


@pytest.fixture
async def committed_world(engine: AsyncEngine) -> AsyncIterator[OrderWorld]:
    """The order world committed for real (the live server has its own connections); one approval needed."""
    async with make_sessionmaker(engine)() as session, session.begin():
        world = await make_world(session)
        await add_rule(session, world, min_amount="0", approvals=1)
    yield world
    await truncate_all(engine)


async def sign_in(browser: Browser, live_server: str, member: Member, next_path: str) -> Page:  # noqa: F811
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{live_server}/lang/zh_CN?next={next_path}")
    await page.get_by_label("邮箱").fill(member.user.email)
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(f"{live_server}{next_path}")
    return page


async def test_cart_to_approval_to_confirmation(
    browser: Browser, live_server: str, committed_world: OrderWorld, tmp_path: Path  # noqa: F811
) -> None:
    world = committed_world
    # given the buyer's cart with 250 bolts from the supplier, priced live by the engine
    buyer = await sign_in(browser, live_server, world.buyer, "/orders/cart")
    await buyer.locator("select[name=supplier_org_id]").select_option(str(world.supplier.org.id))
    await buyer.get_by_label("物料编码 1").fill(world.bolt.code)
    await buyer.get_by_label("单位 1").fill("H87")
    await buyer.get_by_label("数量 1").fill("250")
    await buyer.get_by_label("数量 1").blur()
    await expect(buyer.locator("#price_0")).to_contain_text("4 BX × 12 = 48.00 CNY")
    await buyer.screenshot(path=str(tmp_path / "1-cart.png"), full_page=True)
    # when the buyer places the order
    await buyer.get_by_role("button", name="下单").click()
    # then it waits for approval, 54.24 CNY with 13 % VAT
    await expect(buyer.locator(".status")).to_have_text("待审批")
    await expect(buyer.locator(".gross")).to_have_text("54.24 CNY")
    number = (await buyer.locator("h1").inner_text()).split()[-1]
    await buyer.screenshot(path=str(tmp_path / "2-placed.png"), full_page=True)

    # when the approver opens the queue and approves it
    approver = await sign_in(browser, live_server, world.approver, "/orders/approvals")
    await approver.get_by_role("link", name=number).click()
    await approver.get_by_role("button", name="批准").click()
    # then it is sent to the supplier
    await expect(approver.locator(".status")).to_have_text("已发送给供应商")
    await approver.screenshot(path=str(tmp_path / "3-approved.png"), full_page=True)

    # when the supplier confirms it from the inbox
    supplier = await sign_in(browser, live_server, world.supplier, "/orders/inbox")
    await supplier.get_by_role("link", name=number).click()
    await supplier.get_by_role("button", name="确认", exact=True).click()
    # then it is confirmed and the timeline shows every step
    await expect(supplier.locator(".status")).to_have_text("已确认")
    await expect(supplier.locator(".timeline li")).to_have_count(5)
    await expect(supplier.locator(".timeline")).to_contain_text("供应商已确认")
    await supplier.screenshot(path=str(tmp_path / "4-confirmed.png"), full_page=True)
    assert all((tmp_path / name).stat().st_size > 10_000 for name in ("1-cart.png", "4-confirmed.png"))
