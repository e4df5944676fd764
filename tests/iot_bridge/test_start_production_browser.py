"""The supplier starts production from /iot/production in Chromium (zh): order line, work centre, devices."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from iot_bridge.models import ProductionOrder
from tests.browser import browser, live_server, page  # noqa: F401 - fixtures
from tests.conftest import truncate_all
from tests.factories import PASSWORD, make_member
from tests.iot_bridge.test_production import Line, confirmed_line
from tradeloom.db import make_sessionmaker
from tradeloom.identity.roles import Role

pytestmark = pytest.mark.browser


@pytest.fixture
async def waiting_line(engine: AsyncEngine) -> AsyncIterator[tuple[Line, str]]:
    """A confirmed order line of 100 pieces, the supplier's press and its admin, committed for the live server."""
    async with make_sessionmaker(engine)() as session, session.begin():
        line = await confirmed_line(session)
        admin = await make_member(session, org=line.world.supplier.org, roles=(Role.ORG_ADMIN,))
    yield line, admin.user.email
    await truncate_all(engine)


async def test_supplier_starts_production_from_the_page(
    page: Page, live_server: str, waiting_line: tuple[Line, str], engine: AsyncEngine, tmp_path: Path  # noqa: F811
) -> None:
    line, email = waiting_line
    await page.goto(f"{live_server}/lang/zh_CN?next=/iot/production")
    await page.get_by_label("邮箱").fill(email)
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    form = page.locator("form.start-production")
    # a start without devices is refused with the reason, and nothing starts
    await form.get_by_label("工作中心").fill("PRESS-A")
    await form.get_by_role("button", name="开始生产").click()
    await expect(page.locator("p.alert")).to_be_visible()
    # with the press chosen the line goes into production and is listed
    form = page.locator("form.start-production")
    await form.get_by_label("工作中心").fill("PRESS-A")
    await form.get_by_label("press-1", exact=False).check()
    await form.get_by_role("button", name="开始生产").click()
    await expect(page.locator("table.progress .completed")).to_have_text("0 / 100")
    await expect(page.locator("form.start-production")).to_have_count(0)  # no line is waiting any more
    await page.screenshot(path=str(tmp_path / "start-production.png"), full_page=True)
    async with engine.connect() as conn:
        started = (await conn.execute(select(ProductionOrder.work_centre, ProductionOrder.device_ids))).all()
    assert [(w, d) for w, d in started] == [("PRESS-A", [line.device_id])]
