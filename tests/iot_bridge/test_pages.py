"""IoT pages through the app: dashboard, device list and detail, alarm console with acknowledge."""

import re

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

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
