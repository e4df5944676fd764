"""Qualification marks on other pages over HTTP: a supplier whose required document expired is flagged in
the RFQ's invitation list; the CRM customers a connector synced are listed on the integration pages."""

import datetime as dt

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.qualifications import service
from commerce.qualifications.rules import DocType
from integrations.crm.service import save_customer
from tests.commerce_factories import make_market, rfq_body
from tests.factories import make_member, make_org
from tradeloom.audit import Actor
from tradeloom.db import apply_tenant
from tradeloom.identity.roles import OrgKind, Role

ZH = {"Accept-Language": "zh-CN"}


async def test_an_invited_supplier_with_an_expired_required_document_is_flagged(
    client: AsyncClient, session: AsyncSession,
) -> None:
    # given an RFQ inviting two suppliers, the first holding only an expired required ISO 9001
    market = await make_market(session)
    created = await client.post("/api/v1/rfqs", json=rfq_body(market), headers=market.buyer.headers)
    assert created.status_code == 201, created.text
    await apply_tenant(session, org_id=market.buyer.org.id)
    await service.record_qualification(session, actor=Actor(org_id=market.buyer.org.id),
                                       supplier_org_id=market.suppliers[0].org.id, fields=service.QualificationFields(
                                           DocType.ISO_9001, "CN-QMS-1", "CQC", dt.date.today() - dt.timedelta(days=1),
                                           is_required=True))
    # when the buyer opens the RFQ
    page = (await client.get(f"/rfqs/{created.json()['id']}", headers=market.buyer.headers | ZH)).text
    # then exactly one invitation carries the flag
    invitations = page.split('id="invitations"')[1].split("</ul>")[0].split("<li>")[1:]
    flagged = {market.suppliers[i].org.name_zh: "必备资质已过期" in item for i in (0, 1) for item in invitations
               if market.suppliers[i].org.name_zh in item}
    assert flagged == {market.suppliers[0].org.name_zh: True, market.suppliers[1].org.name_zh: False}


async def test_crm_customers_on_the_integration_pages(client: AsyncClient, session: AsyncSession) -> None:
    # given a supplier whose CRM connector brought in one platform buyer and one CRM-only customer
    admin = await make_member(session, roles=(Role.ORG_ADMIN,), kind=OrgKind.SUPPLIER)
    buyer = await make_org(session, kind=OrgKind.BUYER, name="Bearing")
    await apply_tenant(session, org_id=admin.org.id)
    for key, name, match in (("11", "Suzhou Bearing Works", (buyer.id, "tax_id")), ("12", "宁波阀门厂", None)):
        await save_customer(session, org_id=admin.org.id, source_system="odoo-crm", external_id=key, known_id=None,
                            fields={"name": name, "tax_id": buyer.uscc if match else None}, buyer=match)
    # when / then
    overview = (await client.get("/integrations", headers=admin.headers | ZH)).text
    assert "CRM 连接器已同步 2 个客户（其中 1 个是平台采购方）和 0 个联系人。" in overview
    listing = (await client.get("/integrations/crm", headers=admin.headers | ZH)).text
    assert f"{buyer.name_zh} (按税号匹配)" in listing
    assert "宁波阀门厂" in listing and "仅 CRM 记录" in listing
