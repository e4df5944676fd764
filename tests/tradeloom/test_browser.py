"""The shell in a real browser: a buyer signs in in Chinese and sees the dashboard."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.browser import browser, live_server, page  # noqa: F401 - fixtures
from tests.conftest import truncate_all
from tests.factories import PASSWORD, make_member
from tradeloom.db import make_sessionmaker
from tradeloom.identity.roles import Role

pytestmark = pytest.mark.browser


@pytest.fixture
async def buyer_email(engine: AsyncEngine) -> AsyncIterator[str]:
    """A buyer committed for real (the live server has its own connections)."""
    async with make_sessionmaker(engine)() as session, session.begin():
        await make_member(session, roles=(Role.BUYER, Role.APPROVER), email="li.na@ecm.example")
    yield "li.na@ecm.example"
    await truncate_all(engine)


async def test_buyer_signs_in_in_chinese_and_sees_the_dashboard(
    page: Page, live_server: str, buyer_email: str, tmp_path: Path  # noqa: F811
) -> None:
    # given the sign-in page in Chinese
    await page.goto(f"{live_server}/lang/zh_CN?next=/")
    await expect(page.locator("h1")).to_have_text("登录")
    # when the buyer signs in
    await page.get_by_label("邮箱").fill(buyer_email)
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    # then the dashboard greets them in Chinese with their roles and the buyer's starting card
    await expect(page.locator("h1")).to_have_text("欢迎，测试用户")
    await expect(page.get_by_role("heading", name="采购", exact=True)).to_be_visible()
    await expect(page.locator(".tags")).to_contain_text("采购员")
    await expect(page.get_by_role("navigation", name="主导航")).to_contain_text("工作台")
    await page.screenshot(path=str(tmp_path / "dashboard-zh.png"), full_page=True)
    assert (tmp_path / "dashboard-zh.png").stat().st_size > 10_000


async def test_wrong_password_is_told_in_chinese(page: Page, live_server: str, buyer_email: str) -> None:  # noqa: F811
    await page.goto(f"{live_server}/lang/zh_CN?next=/")
    await page.get_by_label("邮箱").fill(buyer_email)
    await page.get_by_label("密码").fill("not the password")
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("alert")).to_have_text("邮箱或密码错误。")
