"""Desired vs reported attributes: set by API and page, sent as a command (at most MAX_SENDS times), sync state."""

from httpx import AsyncClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from iot_bridge import reconcile
from iot_bridge.models import Device, DeviceCommand
from tests.factories import make_member
from tests.iot_bridge.test_registry_api import API, register_device
from tests.tradeloom.test_pages import sign_in


async def test_differing_desired_value_is_resent_a_bounded_number_of_times(client: AsyncClient, session: AsyncSession):
    # given a lathe asked for a 80 % feed override that reports 100 %
    member = await make_member(session)
    lathe = Device(org_id=member.org.id, code="lathe-9", name="Lathe", type_code="cnc_lathe", protocol="sparkplug",
                   lifecycle="active", desired_attributes={"feed_override": 80, "program": "x"},
                   reported_attributes={"feed_override": 100})
    session.add(lathe)
    await session.flush()
    # when the bridge reconciles, one command applies the desired value; none more while it is open
    (command,) = await reconcile.resend_desired(session, device_ids=[lathe.id])
    assert (command.name, command.params, command.status) == ("set_feed_override", {"percent": 80}, "pending")
    assert await reconcile.resend_desired(session, device_ids=[lathe.id]) == []
    # each time it times out it is sent again, up to MAX_SENDS in all
    for _ in range(reconcile.MAX_SENDS + 1):
        await session.execute(update(DeviceCommand).where(DeviceCommand.device_id == lathe.id)
                              .values(status="timed_out"))
        await reconcile.resend_desired(session, device_ids=[lathe.id])
    commands = (await session.scalars(DeviceCommand.__table__.select().where(
        DeviceCommand.device_id == lathe.id))).all()
    assert len(commands) == reconcile.MAX_SENDS
    # and the device page shows the difference
    await sign_in(client, member.user.email)
    page = await client.get(f"/iot/devices/{lathe.id}")
    assert 'id="desired-settings"' in page.text and 'data-status="drift"' in page.text  # retries used up
    # once the device reports the desired value, nothing differs
    lathe.reported_attributes = {"feed_override": 80}
    assert [a.key for a, _, _ in reconcile.mismatches(lathe)] == []


async def test_desired_values_are_set_by_api_sent_as_a_command_and_reconciled(client: AsyncClient,
                                                                              session: AsyncSession):
    # given a plain MQTT lathe
    member, other = await make_member(session), await make_member(session)
    device = await register_device(client, member)
    url = f"{API}/devices/{device['id']}/desired-attributes"
    # when its feed override is set to 80 %
    put = await client.put(url, headers=member.headers | {"If-Match": '"1"'}, json={"values": {"feed_override": 80}})
    assert put.status_code == 200, put.text
    assert put.json() == [{"key": "feed_override", "desired": 80, "reported": None, "state": "pending",
                           "sent_by_command": True}]
    # then the command that applies it is queued for the bridge
    sent = await client.get(f"{API}/devices/{device['id']}/commands", headers=member.headers)
    assert [(c["name"], c["params"]) for c in sent.json()] == [("set_feed_override", {"percent": 80})]
    # and bad requests are refused, nothing stored: stale version, reported-only key, wrong type, other tenant
    for headers, values, status in (
        (member.headers | {"If-Match": '"1"'}, {"feed_override": 90}, 412),
        (member.headers | {"If-Match": put.headers["ETag"]}, {"firmware": "2.0"}, 422),
        (member.headers | {"If-Match": put.headers["ETag"]}, {"feed_override": "fast"}, 422),
        (other.headers | {"If-Match": put.headers["ETag"]}, {"feed_override": 90}, 404),
    ):
        refused = await client.put(url, headers=headers, json={"values": values})
        assert refused.status_code == status, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    # once the device reports the value, it is in sync
    await session.execute(update(Device).where(Device.org_id == member.org.id)
                          .values(reported_attributes={"feed_override": 80}))
    states = await client.get(url, headers=member.headers)
    assert [s["state"] for s in states.json()] == ["in_sync"]
