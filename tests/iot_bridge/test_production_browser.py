"""The buyer's order page in Chromium shows live production progress loaded from the IoT fragment."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncEngine

from iot_bridge import production
from tests.browser import browser, live_server, page  # noqa: F401 - fixtures
from tests.conftest import truncate_all
from tests.factories import PASSWORD
from tests.iot_bridge.test_production import confirmed_line, count, start, state
from tradeloom.db import make_sessionmaker

pytestmark = pytest.mark.browser


@pytest.fixture
async def order_in_production(engine: AsyncEngine) -> AsyncIterator[tuple[str, uuid.UUID]]:
    """A confirmed order of 100 pieces, 40 made on a running press; committed for the live server."""
    async with make_sessionmaker(engine)() as session, session.begin():
        line = await confirmed_line(session)
        await start(session, line)
        await production.apply_telemetry(session, [count(line, 0, 0, 1), count(line, 1, 40, 2),
                                                   state(line, 1, "run")])
    yield line.world.buyer.user.email, line.order_id
    await truncate_all(engine)


async def test_buyer_sees_production_progress_on_the_order_page(
    page: Page, live_server: str, order_in_production: tuple[str, uuid.UUID], tmp_path: Path  # noqa: F811
) -> None:
    email, order_id = order_in_production
    await page.goto(f"{live_server}/lang/zh_CN?next=/orders/{order_id}")
    await page.get_by_label("邮箱").fill(email)
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    progress = page.locator("#production-progress")
    await expect(progress.locator("h2")).to_have_text("生产进度")
    await expect(progress.locator(".completed")).to_have_text("40 / 100")
    await expect(progress.locator("span.status")).to_have_text("进行中")
    await page.screenshot(path=str(tmp_path / "order-production.png"), full_page=True)
