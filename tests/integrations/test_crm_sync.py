"""CRM customers and contacts pulled by connectors from the local ERP speaking Odoo JSON-RPC (res.partner)
and SAP OData (API_BUSINESS_PARTNER): matched to platform buyers, refreshed on re-sync, never duplicated."""

import uuid
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from integrations.bulk.records import BulkKind
from integrations.bulk.service import run_bulk
from integrations.connectors import service as connector_service
from integrations.connectors.mapping import alternative_mappings, parse_mapping, profile_mapping
from integrations.crm.models import CrmContact, CrmCustomer
from tests.factories import Member, make_member, make_org
from tests.integrations.erp_server import FakeErp
from tests.integrations.test_connectors import OPTIONS, add_connector, count, open_errors, sync
from tradeloom.db import apply_tenant
from tradeloom.identity.roles import OrgKind, Role

ODOO_CRM = alternative_mappings("odoo")["odoo_crm"]


def odoo_partners(buyer_uscc: str) -> list[dict[str, Any]]:
    return [
        {"id": 11, "is_company": True, "customer_rank": 3, "name": " Suzhou Bearing Works ", "vat": buyer_uscc.lower(),
         "email": "buy@bearing.example", "phone": "+86 512 6000 0001", "city": "Suzhou", "country_code": "CN"},
        {"id": 12, "is_company": True, "customer_rank": 1, "name": "Ningbo Valve Co., Ltd.", "vat": False,
         "email": False, "phone": False, "city": "Ningbo", "country_code": "CN"},
        {"id": 13, "is_company": True, "customer_rank": 0, "name": "A Vendor", "vat": False},  # not a customer
        {"id": 21, "is_company": False, "name": "Li Wei", "parent_id": [11, "Suzhou Bearing Works"],
         "email": "li.wei@bearing.example", "phone": "+86 138 0000 0001", "mobile": False, "function": "Buyer"},
        {"id": 22, "is_company": False, "name": "Zhao Min", "parent_id": [12, "Ningbo Valve Co., Ltd."],
         "email": False, "phone": "+86 139 0000 0002", "mobile": False, "function": "Quality manager"},
        {"id": 23, "is_company": False, "name": "Vendor Person", "parent_id": [13, "A Vendor"], "function": "Sales"},
    ]


async def customers_of(session: AsyncSession) -> list[tuple[str, str, str | None, Any, str | None]]:
    rows = await session.scalars(select(CrmCustomer).order_by(CrmCustomer.external_id)
                                 .execution_options(populate_existing=True))
    return [(c.external_id, c.name, c.tax_id, c.buyer_org_id, c.matched_by) for c in rows]


async def contacts_of(session: AsyncSession) -> list[tuple[str, str | None, str | None, str | None, str | None]]:
    rows = await session.scalars(select(CrmContact).order_by(CrmContact.external_id)
                                 .execution_options(populate_existing=True))
    return [(c.external_id, c.name, c.email, c.phone, c.role) for c in rows]


class TestShippedCrmMappings:
    def test_the_crm_and_srm_mappings_are_valid(self) -> None:
        kinds = {name: [pull.kind for pull in parse_mapping(text).pulls]
                 for profile in ("odoo", "sap_s4hana") for name, text in alternative_mappings(profile).items()}
        assert kinds == {"odoo_crm": [BulkKind.CUSTOMERS, BulkKind.CONTACTS], "odoo_srm": [BulkKind.QUALIFICATIONS],
                         "sap_s4hana_crm": [BulkKind.CUSTOMERS, BulkKind.CONTACTS, BulkKind.CONTACTS],
                         "sap_s4hana_idoc": [BulkKind.ORDERS]}
        assert [pull.kind for pull in parse_mapping(profile_mapping("salesforce")).pulls] == [
            BulkKind.CUSTOMERS, BulkKind.CONTACTS]


class TestOdooCrm:
    async def test_customers_are_matched_to_buyers_and_contacts_follow(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], erp: FakeErp,
    ) -> None:
        # given a supplier's Odoo with two customers: one a platform buyer by its USCC, one known by name only
        supplier = await make_member(session, kind=OrgKind.SUPPLIER, roles=(Role.ORG_ADMIN,))
        by_uscc = await make_org(session, kind=OrgKind.BUYER, name="Bearing")
        erp.odoo["res.partner"] = odoo_partners(by_uscc.uscc)
        by_name = await make_org(session, kind=OrgKind.BUYER, name="Ningbo Valve")
        erp.odoo["res.partner"][1]["name"] = by_name.name_en
        connector = await add_connector(session, supplier, erp, "odoo", mapping=ODOO_CRM)
        # when
        outcome = await sync(sessionmaker, connector)
        # then customers (the vendor left out by the domain) are linked by tax id, else by name
        await apply_tenant(session, org_id=supplier.org.id)
        assert (outcome.status, await open_errors(session, connector)) == ("succeeded", [])
        assert await customers_of(session) == [
            ("11", "Suzhou Bearing Works", by_uscc.uscc, by_uscc.id, "tax_id"),
            ("12", by_name.name_en, None, by_name.id, "name")]
        assert await contacts_of(session) == [
            ("21", "Li Wei", "li.wei@bearing.example", "+86 138 0000 0001", "Buyer"),
            ("22", "Zhao Min", None, "+86 139 0000 0002", "Quality manager")]
        assert outcome.summary["customers"]["created"] == 2
        assert await open_errors(session, connector) == []

    async def test_a_second_sync_refreshes_and_duplicates_nothing(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], erp: FakeErp,
    ) -> None:
        # given a synced CRM
        supplier = await make_member(session, kind=OrgKind.SUPPLIER, roles=(Role.ORG_ADMIN,))
        erp.odoo["res.partner"] = odoo_partners("91310000MA1FL0000X")
        erp.odoo["res.partner"] = [p for p in erp.odoo["res.partner"] if p["id"] != 23]
        connector = await add_connector(session, supplier, erp, "odoo", mapping=ODOO_CRM)
        await sync(sessionmaker, connector)
        # when the contact changes job and e-mail in Odoo and the sync runs again
        erp.odoo["res.partner"][3] |= {"email": "wei.li@bearing.example", "function": "Purchasing lead"}
        again = await sync(sessionmaker, connector)
        # then the rows are refreshed in place, reported existing
        await apply_tenant(session, org_id=supplier.org.id)
        assert again.status == "succeeded"
        assert again.summary["contacts"] | {"jobs": []} == {"fetched": 2, "unmapped": 0, "created": 0, "existing": 2,
                                                            "rejected": 0, "jobs": []}
        assert (await count(session, CrmCustomer), await count(session, CrmContact)) == (2, 2)
        assert (await contacts_of(session))[0] == ("21", "Li Wei", "wei.li@bearing.example", "+86 138 0000 0001",
                                                   "Purchasing lead")
        assert [c[3] for c in await customers_of(session)] == [None, None]  # no platform buyer has these

    async def test_a_contact_of_an_unknown_company_waits_in_the_error_queue(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], erp: FakeErp,
    ) -> None:
        # given a mapping that pulls every company's people, and a person at a vendor (not a customer)
        supplier = await make_member(session, kind=OrgKind.SUPPLIER, roles=(Role.ORG_ADMIN,))
        erp.odoo["res.partner"] = odoo_partners("91310000MA1FL0000X")
        every_person = alternative_mappings("odoo")["odoo_crm"].replace('["parent_id.customer_rank", ">", 0]',
                                                                        '["parent_id", "!=", false]')
        connector = await add_connector(session, supplier, erp, "odoo", mapping=every_person)
        # when
        outcome = await sync(sessionmaker, connector)
        # then the vendor's person is refused and queued, named by the Odoo id
        await apply_tenant(session, org_id=supplier.org.id)
        assert outcome.status == "partial"
        assert await open_errors(session, connector) == [("record", "23", "customer_unknown", 1)]
        # when the vendor becomes a customer, the next sync gets the person in and clears the queue
        erp.odoo["res.partner"][2]["customer_rank"] = 2
        fixed = await sync(sessionmaker, connector)
        assert fixed.status == "succeeded"
        assert await open_errors(session, connector) == []
        assert [c[0] for c in await contacts_of(session)] == ["21", "22", "23"]


class TestSapCrm:
    async def test_business_partners_and_two_pulls_filling_one_contact(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], erp: FakeErp,
    ) -> None:
        # given SAP business partners: a customer organization, a supplier-only one and a contact person
        supplier = await make_member(session, kind=OrgKind.SUPPLIER, roles=(Role.ORG_ADMIN,))
        buyer = await make_org(session, kind=OrgKind.BUYER, name="Changzhou Motors")
        erp.odata["API_BUSINESS_PARTNER/A_BusinessPartner"] = [
            {"BusinessPartner": "1000123", "BusinessPartnerCategory": "2", "Customer": "1000123",
             "BusinessPartnerFullName": "Changzhou Motors",
             "to_BusinessPartnerTax": {"results": [{"BPTaxType": "CN5", "BPTaxNumber": f" {buyer.uscc} "}]},
             "to_BusinessPartnerAddress": {"results": [{"CityName": "Changzhou", "Country": "CN"}]}},
            {"BusinessPartner": "1700001", "BusinessPartnerCategory": "2", "Customer": "",
             "BusinessPartnerFullName": "Only A Supplier"},
            {"BusinessPartner": "2000045", "BusinessPartnerCategory": "1", "Customer": "",
             "BusinessPartnerFullName": "Sun Li"}]
        erp.odata["API_BUSINESS_PARTNER/A_BusinessPartnerContact"] = [
            {"RelationshipNumber": "R1", "BusinessPartnerCompany": "1000123", "BusinessPartnerPerson": "2000045",
             "to_ContactRelationship": {"ContactPersonFunctionName": "Head of Purchasing",
                                        "EmailAddress": "sun.li@motors.example", "PhoneNumber": "0519 8888 0000"}}]
        connector = await add_connector(session, supplier, erp, "sap_s4hana",
                                        mapping=alternative_mappings("sap_s4hana")["sap_s4hana_crm"])
        # when it syncs twice
        first = await sync(sessionmaker, connector)
        second = await sync(sessionmaker, connector)
        # then
        await apply_tenant(session, org_id=supplier.org.id)
        assert (first.status, second.status) == ("succeeded", "succeeded")
        assert first.summary["contacts"]["created"] == 1 and first.summary["contacts"]["existing"] == 1
        assert await customers_of(session) == [("1000123", "Changzhou Motors", buyer.uscc, buyer.id, "tax_id")]
        assert await contacts_of(session) == [
            ("2000045", "Sun Li", "sun.li@motors.example", "0519 8888 0000", "Head of Purchasing")]
        contact = await session.scalar(select(CrmContact))
        customer = await session.scalar(select(CrmCustomer))
        assert contact is not None and customer is not None and contact.customer_id == customer.id
        assert customer.city == "Changzhou"


class TestCrmApi:
    async def test_lists_are_the_callers_own(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], erp: FakeErp,
        client: AsyncClient,
    ) -> None:
        # given one supplier's synced CRM
        supplier = await make_member(session, kind=OrgKind.SUPPLIER, roles=(Role.ORG_ADMIN,))
        other = await make_member(session, kind=OrgKind.SUPPLIER, roles=(Role.ORG_ADMIN,))
        buyer = await make_org(session, kind=OrgKind.BUYER, name="Bearing")
        erp.odoo["res.partner"] = odoo_partners(buyer.uscc)[:5]
        connector = await add_connector(session, supplier, erp, "odoo", mapping=ODOO_CRM)
        await sync(sessionmaker, connector)
        # when / then
        customers = (await client.get("/api/v1/crm/customers?linked=true", headers=supplier.headers)).json()
        assert [(c["external_id"], c["buyer_org_id"], c["matched_by"]) for c in customers] == [
            ("11", str(buyer.id), "tax_id")]
        contacts = await client.get(f"/api/v1/crm/contacts?customer_id={customers[0]['id']}", headers=supplier.headers)
        assert [(c["name"], c["role"]) for c in contacts.json()] == [("Li Wei", "Buyer")]
        assert (await client.get("/api/v1/crm/customers", headers=other.headers)).json() == []
        missing = await client.get(f"/api/v1/crm/customers/{customers[0]['id']}", headers=other.headers)
        assert (missing.status_code, missing.json()["code"]) == (404, "crm_customer_not_found")
        bad = await client.get("/api/v1/crm/customers?limit=0", headers=supplier.headers)
        assert bad.status_code == 422


class TestBulkApi:
    async def test_customers_and_contacts_sent_directly_are_refreshed_by_a_resend(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], client: AsyncClient,
    ) -> None:
        # given
        admin = await make_member(session, kind=OrgKind.SUPPLIER, roles=(Role.ORG_ADMIN,))
        customers = [{"external_id": "C-1", "name": "Wuxi Pumps", "country": "CN"},
                     {"external_id": "C-2", "name": "", "country": "China"}]
        # when the CRM sends customers, then one contact twice (the second time with a new phone)
        first = await _bulk(client, sessionmaker, admin, "customers", customers)
        for phone in ("0510 1111", "0510 2222"):
            await _bulk(client, sessionmaker, admin, "contacts",
                        [{"external_id": "P-1", "customer_ref": "C-1", "name": "Qian Hao", "phone": phone}])
        # then the bad customer is reported field by field, the contact exists once with the new phone
        assert [r["status"] for r in first["results"]] == ["created", "rejected"]
        assert {p["pointer"] for p in first["results"][1]["problems"]} == {"/name", "/country"}
        await apply_tenant(session, org_id=admin.org.id)
        assert await contacts_of(session) == [("P-1", "Qian Hao", None, "0510 2222", None)]


async def _bulk(client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], member: Member, kind: str,
                records: list[dict[str, Any]]) -> dict[str, Any]:
    queued = await client.post(f"/api/v1/bulk/{kind}", headers=member.headers,
                               json={"source_system": "crm-prod", "records": records})
    assert queued.status_code == 202, queued.text
    await run_bulk(sessionmaker, org_id=member.org.id, job_id=uuid.UUID(queued.json()["id"]))
    return dict((await client.get(queued.json()["url"], headers=member.headers)).json())


class TestSalesforce:
    async def test_accounts_and_contacts_page_by_page(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], erp: FakeErp,
    ) -> None:
        # given a Salesforce org with three customer accounts (two query batches) and a contact
        supplier = await make_member(session, kind=OrgKind.SUPPLIER, roles=(Role.ORG_ADMIN,))
        buyer = await make_org(session, kind=OrgKind.BUYER)
        erp.salesforce["Account"] = [
            {"attributes": {"type": "Account"}, "Id": f"001A{n}", "Name": name, "Tax_Id__c": tax, "Phone": None,
             "BillingCity": "Shanghai", "BillingCountryCode": "CN"}
            for n, name, tax in ((1, "Huadong Metals", buyer.uscc), (2, "Pudong Tools", None), (3, "Jiading Auto", ""))]
        erp.salesforce["Contact"] = [{"attributes": {"type": "Contact"}, "Id": "003B1", "Name": "Zhou Jie",
                                      "Email": "zhou.jie@metals.example", "Phone": None, "Title": "Buyer",
                                      "AccountId": "001A1"}]
        credentials = {"client_id": "tradeloom", "client_secret": "s3cret"}
        connector = await add_connector(session, supplier, erp, "salesforce", credentials=credentials)
        # when
        outcome = await sync(sessionmaker, connector)
        # then the second batch was followed, and the accounts and the contact are in
        await apply_tenant(session, org_id=supplier.org.id)
        assert outcome.status == "succeeded", await open_errors(session, connector)
        assert erp.calls.count("GET /services/data/v60.0/query/Account-2") == 1
        assert [(c[0], c[3]) for c in await customers_of(session)] == [
            ("001A1", buyer.id), ("001A2", None), ("001A3", None)]
        assert await contacts_of(session) == [("003B1", "Zhou Jie", "zhou.jie@metals.example", None, "Buyer")]

    async def test_wrong_client_credentials_are_refused_not_retried(
        self, session: AsyncSession, erp: FakeErp,
    ) -> None:
        supplier = await make_member(session, kind=OrgKind.SUPPLIER, roles=(Role.ORG_ADMIN,))
        connector = await add_connector(session, supplier, erp, "salesforce",
                                        credentials={"client_id": "tradeloom", "client_secret": "wrong"})
        check = await connector_service.test_connection(session, connector_id=connector.id, options=OPTIONS)
        assert not check.ok and "invalid_client" in check.message
        assert erp.calls == ["POST /services/oauth2/token"]
