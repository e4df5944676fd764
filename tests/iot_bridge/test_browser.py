"""The IoT main flow in Chromium: fleet dashboard, alarm console (acknowledge), live readings over SSE."""

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncEngine

from iot_bridge.live import live_channel
from tests.browser import browser, live_server, page  # noqa: F401 - fixtures
from tests.conftest import truncate_all
from tests.factories import PASSWORD, make_member
from tests.iot_bridge.test_alarms_api import lathe_with_alarm
from tradeloom.db import make_sessionmaker

pytestmark = pytest.mark.browser
EMAIL = "wang.gong@plant.example"


@pytest.fixture
async def lathe(engine: AsyncEngine) -> AsyncIterator[uuid.UUID]:
    """An org admin whose lathe has an open alarm, committed for the live server."""
    async with make_sessionmaker(engine)() as session, session.begin():
        member = await make_member(session, email=EMAIL)
        device_id = await lathe_with_alarm(session, member)
    yield device_id
    await truncate_all(engine)


async def test_operator_acknowledges_an_alarm_and_watches_live_readings(
    page: Page, live_server: str, lathe: uuid.UUID, redis_url: str, tmp_path: Path  # noqa: F811
) -> None:
    # given an operator signed in in Chinese
    await page.goto(f"{live_server}/lang/zh_CN?next=/iot")
    await page.get_by_label("邮箱").fill(EMAIL)
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    # then the fleet dashboard shows the open alarm
    await expect(page.locator("h1")).to_have_text("设备总览")
    await expect(page.get_by_test_id("alarm-count")).to_have_text("1")
    await page.screenshot(path=str(tmp_path / "iot-dashboard.png"), full_page=True)
    # when they acknowledge it in the alarm console
    await page.get_by_role("link", name="未关闭告警").click()
    await page.get_by_role("button", name="确认").click()
    await expect(page.locator("tbody")).to_contain_text("已确认")
    await page.screenshot(path=str(tmp_path / "iot-alarms.png"), full_page=True)
    # and open the device, a reading published by the bridge appears without a reload (SSE)
    await page.get_by_role("link", name="lathe-1").click()
    await expect(page.locator("h1")).to_contain_text("lathe-1")
    cell = page.locator('td[data-key="spindle_speed"]')
    await expect(cell).to_have_text("–")
    publisher = redis.Redis.from_url(redis_url)
    for _ in range(50):  # until the page's stream has subscribed
        if publisher.publish(live_channel(lathe), json.dumps({"spindle_speed": [1, 1500]})):
            break
        await page.wait_for_timeout(100)
    publisher.close()
    await expect(cell).to_have_text("1500")
    await page.screenshot(path=str(tmp_path / "iot-device.png"), full_page=True)
