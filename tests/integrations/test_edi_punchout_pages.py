"""EDI and PunchOut settings pages over HTTP (forms posted with a bearer token, so without CSRF)."""

import re

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.orders_factories import make_world

ZH = {"Accept-Language": "zh-CN"}


async def test_an_admin_adds_an_edi_partner_and_a_bad_one_is_shown_again(client: AsyncClient,
                                                                         session: AsyncSession) -> None:
    # given
    world = await make_world(session)
    admin = world.admin.headers | ZH
    form = {"name": "金蝶 K/3", "partner_id": "KD0001", "partner_qualifier": "ZZZ", "our_id": "TRADELOOM",
            "our_qualifier": "ZZZ", "syntax_version": "D01B", "messages": ["ORDERS", "ORDRSP"],
            "delivery_site_id": str(world.site_id)}
    # when
    added = await client.post("/integrations/edi", headers=admin, data=form)
    again = await client.post("/integrations/edi", headers=admin, data=form)
    # then
    assert added.status_code == 303
    page = await client.get("/integrations/edi", headers=admin)
    assert "EDI 伙伴与报文" in page.text and "KD0001:ZZZ" in page.text and "ORDERS, ORDRSP" in page.text
    assert again.status_code == 409 and "already exists" in again.text and 'value="金蝶 K/3"' in again.text
    assert (await client.get("/integrations/edi", headers=world.buyer.headers)).status_code == 403


async def test_an_admin_creates_a_punchout_credential_and_sees_the_secret_once(client: AsyncClient,
                                                                              session: AsyncSession) -> None:
    world = await make_world(session)
    admin = world.admin.headers | ZH
    created = await client.post("/integrations/punchout", headers=admin, data={
        "name": "Coupa", "domain": "DUNS", "identity": "123456789", "supplier_org_id": str(world.supplier.org.id),
        "delivery_site_id": str(world.site_id)})
    assert created.status_code == 200
    secret = re.search(r"<code>(pos_[^<]+)</code>", created.text)
    assert secret is not None and "仅此一次显示" in created.text
    listed = await client.get("/integrations/punchout", headers=admin)
    assert "DUNS:123456789" in listed.text and secret.group(1) not in listed.text
    refused = await client.post("/integrations/punchout", headers=admin, data={"name": "x"})
    assert refused.status_code == 422
