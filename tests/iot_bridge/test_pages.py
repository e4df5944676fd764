"""IoT pages through the app: dashboard, device list and detail, alarm console with acknowledge."""

import datetime as dt
import re

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from iot_bridge.models import MaintenanceSchedule
from tests.factories import make_member
from tests.iot_bridge.test_alarms_api import lathe_with_alarm
from tests.tradeloom.test_pages import sign_in


async def test_fleet_devices_and_alarm_console(client: AsyncClient, session: AsyncSession):
    # given a signed-in operator whose lathe has an open alarm
    member = await make_member(session)
    device_id = await lathe_with_alarm(session, member)
    token = await sign_in(client, member.user.email)
    # when / then
    dashboard = await client.get("/iot")
    assert dashboard.status_code == 200
    assert re.search(r'data-testid="alarm-count">1<', dashboard.text)
    listing = await client.get("/iot/devices", params={"type_code": "cnc_lathe"})
    assert f'href="/iot/devices/{device_id}">lathe-1<' in listing.text
    detail = await client.get(f"/iot/devices/{device_id}")
    assert "spindle_overtemp: spindle_temp above 80 (value 85)" in detail.text
    console = await client.get("/iot/alarms")
    alarm_id = re.search(r'action="/iot/alarms/([0-9a-f-]+)/acknowledge"', console.text).group(1)  # type: ignore[union-attr]
    acked = await client.post(f"/iot/alarms/{alarm_id}/acknowledge", data={"csrf_token": token, "version": "1"})
    assert acked.status_code == 303
    stale = await client.post(f"/iot/alarms/{alarm_id}/acknowledge", data={"csrf_token": token, "version": "1"})
    assert stale.status_code == 409 and 'role="alert"' in stale.text
    # and the command panel queues a checked command, or says why not
    url = f"/iot/devices/{device_id}/commands/set_feed_override"
    sent = await client.post(url, data={"csrf_token": token, "percent": "90"})
    assert sent.status_code == 303
    refused = await client.post(url, data={"csrf_token": token, "percent": "900"})
    assert refused.status_code == 409 and "&#39;percent&#39; must be between 0.0 and 150.0" in refused.text
    panel = await client.get(f"/iot/devices/{device_id}")
    assert 'set_feed_override {"percent": 90}' in panel.text and "待发送" in panel.text


async def test_pages_speak_chinese(client: AsyncClient, session: AsyncSession):
    member = await make_member(session)
    await sign_in(client, member.user.email)
    page = await client.get("/iot", headers={"Accept-Language": "zh-CN"})
    assert "设备" in page.text


async def test_maintenance_page_records_scheduled_work(client: AsyncClient, session: AsyncSession):
    # given an operator whose lathe has an overdue oil change
    member, other = await make_member(session), await make_member(session)
    device_id = await lathe_with_alarm(session, member)
    schedule = MaintenanceSchedule(org_id=member.org.id, device_id=device_id, task="Change spindle oil",
                                   interval_days=30, next_due_on=dt.date.today() - dt.timedelta(days=2))
    session.add(schedule)
    await session.flush()
    token = await sign_in(client, member.user.email)
    page = await client.get("/iot/maintenance", headers={"Accept-Language": "zh-CN"})
    assert "Change spindle oil" in page.text and "已逾期" in page.text
    # when they mark it done today, a record appears and the schedule is due again in 30 days
    done = await client.post(f"/iot/maintenance/{schedule.id}/done", data={"csrf_token": token})
    assert done.status_code == 303
    await session.refresh(schedule)
    assert schedule.next_due_on == dt.date.today() + dt.timedelta(days=30)
    page = await client.get("/iot/maintenance")
    assert "预防性" in page.text and "已逾期" not in page.text
    # another organization's schedule is not found
    await sign_in(client, other.user.email)
    refused = await client.post(f"/iot/maintenance/{schedule.id}/done", data={"csrf_token": token})
    assert refused.status_code in (403, 404, 409)
