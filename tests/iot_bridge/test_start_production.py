"""The start form on /iot/production: only for devices.manage, refusals shown, nothing half-stored."""

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from iot_bridge.models import ProductionOrder
from tests.factories import make_member
from tests.iot_bridge.test_production import confirmed_line
from tests.tradeloom.test_pages import sign_in
from tradeloom.identity.roles import Role


async def productions(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(ProductionOrder)) or 0)


async def test_start_form_is_for_device_managers_and_refusals_store_nothing(client: AsyncClient,
                                                                            session: AsyncSession):
    line = await confirmed_line(session)
    # a sales user of the supplier sees no form, and a forged post is refused
    csrf = await sign_in(client, line.world.supplier.user.email)
    page = await client.get("/iot/production")
    assert "start-production" not in page.text
    form = {"csrf_token": csrf, "order_line_id": str(line.line_id), "work_centre": "A",
            "device_ids": str(line.device_id)}
    assert (await client.post("/iot/production", data=form)).status_code == 403
    await client.post("/logout", data={"csrf_token": csrf})
    # the supplier's admin sees the waiting line and its press
    admin = await make_member(session, org=line.world.supplier.org, roles=(Role.ORG_ADMIN,))
    csrf = await sign_in(client, admin.user.email)
    page = await client.get("/iot/production")
    assert str(line.line_id) in page.text and str(line.device_id) in page.text
    # bad forms are refused with the reason shown: no devices, a malformed line, no work centre
    for bad, status in (({"device_ids": []}, 422), ({"order_line_id": "x"}, 422), ({"work_centre": " "}, 422)):
        refused = await client.post("/iot/production", data=form | {"csrf_token": csrf} | bad)
        assert refused.status_code == status, refused.text
        assert 'class="alert"' in refused.text
    assert await productions(session) == 0
    # a good one starts production
    started = await client.post("/iot/production", data=form | {"csrf_token": csrf})
    assert started.status_code == 303
    assert await productions(session) == 1
