"""Alarm lifecycle over the API: one open alarm per device and rule, acknowledge, clear, tenancy."""

import datetime as dt
import uuid

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from iot_bridge import alarms
from iot_bridge.alarm_rules import Transition
from iot_bridge.device_types import load_device_types
from iot_bridge.models import Device
from tests.factories import Member, make_member

RULE = next(r for r in load_device_types()["cnc_lathe"].alarms if r.code == "spindle_overtemp")
AT = dt.datetime(2026, 11, 25, 8, tzinfo=dt.UTC)


async def lathe_with_alarm(session: AsyncSession, member: Member) -> uuid.UUID:
    device = Device(org_id=member.org.id, code="lathe-1", name="Lathe", type_code="cnc_lathe", protocol="sparkplug",
                    lifecycle="active", desired_attributes={}, reported_attributes={})
    session.add(device)
    await session.flush()
    raised = Transition(device.id, RULE, True, 85.0, AT)
    # the bridge raising the same alarm twice stores one open alarm
    assert await alarms.apply_transitions(session, [(member.org.id, raised), (member.org.id, raised)]) == 1
    return device.id


async def test_acknowledge_then_clear(client: AsyncClient, session: AsyncSession):
    member = await make_member(session)
    other = await make_member(session)
    device_id = await lathe_with_alarm(session, member)
    (alarm,) = (await client.get("/api/v1/iot/alarms", headers=member.headers)).json()
    assert (alarm["device_id"], alarm["status"], alarm["message"]) == (
        str(device_id), "active", "spindle_overtemp: spindle_temp above 80 (value 85)")
    assert (await client.get("/api/v1/iot/alarms", headers=other.headers)).json() == []
    url = f"/api/v1/iot/alarms/{alarm['id']}"
    hidden = await client.post(f"{url}/acknowledge", headers=other.headers | {"If-Match": '"1"'})
    assert hidden.status_code == 404
    acked = await client.post(f"{url}/acknowledge", headers=member.headers | {"If-Match": '"1"'})
    assert (acked.status_code, acked.json()["status"], acked.json()["acknowledged_by"]) == (
        200, "acknowledged", str(member.user.id))
    again = await client.post(f"{url}/acknowledge", headers=member.headers | {"If-Match": '"2"'})
    assert (again.status_code, again.json()["code"]) == (409, "alarm_not_active")
    cleared = await client.post(f"{url}/clear", headers=member.headers | {"If-Match": '"2"'})
    assert cleared.json()["status"] == "cleared"
    assert (await client.get("/api/v1/iot/alarms", headers=member.headers)).json() == []
    history = (await client.get("/api/v1/iot/alarms", params={"history": True}, headers=member.headers)).json()
    assert [a["status"] for a in history] == ["cleared"]
