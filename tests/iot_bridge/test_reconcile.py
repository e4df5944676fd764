"""Desired vs reported attributes: shown on the device page, re-sent as a command at most MAX_SENDS times."""

from httpx import AsyncClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from iot_bridge import reconcile
from iot_bridge.models import Device, DeviceCommand
from tests.factories import make_member
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
    assert 'id="attribute-mismatches"' in page.text and "feed_override" in page.text
    # once the device reports the desired value, nothing differs
    lathe.reported_attributes = {"feed_override": 80}
    assert [a.key for a, _, _ in reconcile.mismatches(lathe)] == []
