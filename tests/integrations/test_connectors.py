"""Connectors against a local ERP that speaks SAP OData, Odoo JSON-RPC, Kingdee WebAPI and Yonyou OpenAPI:
mappings, pulls into the bulk service, retries, the error queue, and nothing created twice."""

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.models import Material, SupplierOffer
from commerce.orders.models import OrderLine, PurchaseOrder
from integrations.bulk.records import BulkKind
from integrations.connectors import service
from integrations.connectors.mapping import Converter, MappingError, map_record, parse_mapping, profile_mapping
from integrations.connectors.models import Connector, ConnectorError
from integrations.connectors.schemas import ConnectorIn
from integrations.connectors.service import CallOptions
from integrations.connectors.sync import run_sync
from integrations.external_ids.service import Link, ObjectType, record_links
from tests.factories import Member, make_member
from tests.integrations.erp_server import FakeErp
from tests.orders_factories import OrderWorld, make_world
from tradeloom.audit import Actor
from tradeloom.db import apply_tenant
from tradeloom.errors import Invalid
from tradeloom.identity.roles import Role

OPTIONS = CallOptions(allowed_hosts=frozenset({"127.0.0.1"}), timeout_seconds=0.5, retry_seconds=0)
CREDENTIALS = {"username": "tradeloom", "password": "s3cret", "database": "prod", "acct_id": "62f0a1",
               "from_account": "tradeloom", "to_account": "u8prod", "app_key": "tradeloom", "app_secret": "s3cret"}


async def add_connector(session: AsyncSession, member: Member, erp: FakeErp, profile: str, *,
                        mapping: str | None = None, credentials: dict[str, str] | None = None) -> Connector:
    await apply_tenant(session, org_id=member.org.id, user_id=member.user.id)
    return await service.create_connector(session, actor=Actor(org_id=member.org.id, user_id=member.user.id),
                                          fields=ConnectorIn(
        name=f"{profile}-prod", profile=profile, base_url=erp.url, mapping_yaml=mapping or profile_mapping(profile),
        schedule_minutes=15, is_active=True, credentials=credentials or CREDENTIALS), options=OPTIONS)


async def sync(sessionmaker: async_sessionmaker[AsyncSession], connector: Connector) -> Any:
    return await run_sync(sessionmaker, org_id=connector.org_id, connector_id=connector.id, options=OPTIONS)


async def count(session: AsyncSession, model: type, *where: object) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


async def open_errors(session: AsyncSession, connector: Connector) -> list[tuple[str, str | None, str, int]]:
    rows = await session.scalars(select(ConnectorError).where(ConnectorError.connector_id == connector.id,
                                                              ConnectorError.status == "open")
                                 .order_by(ConnectorError.created_at).execution_options(populate_existing=True))
    return [(e.stage, e.external_id, e.code, e.occurrences) for e in rows]


def sap_world(erp: FakeErp, world: OrderWorld, *order_numbers: str) -> None:
    erp.odata["API_BUSINESS_PARTNER/A_BusinessPartner"] = [{
        "BusinessPartner": "17300001", "BusinessPartnerCategory": "2", "BusinessPartnerFullName": "Supplier Co.",
        "to_BusinessPartnerTax": {"results": [{"BPTaxType": "CN5", "BPTaxNumber": world.supplier.org.uscc}]}}]
    erp.odata["API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder"] = [{
        "PurchaseOrder": number, "Supplier": "17300001", "DocumentCurrency": "CNY",
        "to_PurchaseOrderItem": {"results": [
            {"PurchaseOrderItem": "10", "Plant": "1010", "Material": "TG11", "OrderQuantity": "20",
             "PurchaseOrderQuantityUnit": "PC", "NetPriceAmount": "1.30",
             "ScheduleLineDeliveryDate": "/Date(1767225600000)/"}]}} for number in order_numbers]


def with_bolt_attributes(profile: str) -> str:
    """The shipped mapping plus the attributes class 100101 (bolts) requires, as constants."""
    return profile_mapping(profile) + (
        "      attributes.thread: {const: M8}\n      attributes.length_mm: {const: 30}\n"
        "      attributes.material: {const: SS304}\n")


async def link_sap_material(session: AsyncSession, world: OrderWorld) -> None:
    await record_links(session, org_id=world.buyer.org.id, source_system="sap_s4hana-prod",
                       object_type=ObjectType.MATERIAL, links=[Link("TG11", world.bolt.id)])


class TestMapping:
    def test_fields_units_and_currencies_are_mapped(self) -> None:
        # given
        mapping = parse_mapping("""
pulls:
  - kind: offers
    source: {model: product.product}
    external_id: id
    fields:
      supplier_part_number: {from: default_code, transform: [strip, upper]}
      moq: {from: x_moq, unit_from: uom_id.1, unit_map: {Dozens: DZN}, to_unit: H87}
      price_tiers:
        fields:
          unit_price: {from: list_price, currency_from: currency_id.1, to_currency: CNY}
""")
        theirs = {"id": 42, "default_code": " sp-9 ", "x_moq": 2, "uom_id": [3, "Dozens"], "list_price": 1.5,
                  "currency_id": [2, "USD"]}
        # when
        ours = map_record(mapping.pulls[0], theirs, Converter({"USD": Decimal("7.1"), "CNY": Decimal(1)}))
        # then
        assert ours == {"external_id": "42", "supplier_part_number": "SP-9", "moq": "24",
                        "price_tiers": [{"unit_price": "10.6500"}]}

    def test_an_unmapped_code_is_a_mapping_error(self) -> None:
        pull = parse_mapping(profile_mapping("kingdee_k3cloud")).pulls[0]
        with pytest.raises(MappingError) as refused:
            map_record(pull, {"FNumber": "M1", "FName": "螺栓", "FMaterialGroup.FNumber": "01.01",
                              "FBaseUnitId.FNumber": "Box"}, Converter({}))
        assert (refused.value.field, refused.value.message) == ("base_unit", "their code 'Box' has no entry in the map")

    @pytest.mark.parametrize(("text", "pointer"), [
        ("pulls: [", None),
        ("pulls:\n  - kind: fapiaos\n    source: {}\n    external_id: id\n    fields: {}\n", "/pulls/0/kind"),
        ("pulls:\n  - kind: materials\n    source: {}\n    external_id: id\n    fields: {a: {const: 1, from: b}}\n",
         "/pulls/0/fields/a/str"),
    ])
    def test_a_bad_mapping_is_422_naming_the_fault(self, text: str, pointer: str | None) -> None:
        with pytest.raises(Invalid) as refused:
            parse_mapping(text)
        assert refused.value.code == "connector_mapping_invalid"
        if pointer is None:
            assert "line 1" in refused.value.message
        else:
            assert pointer in [error["pointer"] for error in refused.value.errors]

    def test_every_shipped_profile_mapping_is_valid(self) -> None:
        kinds = {profile: [pull.kind for pull in parse_mapping(profile_mapping(profile)).pulls]
                 for profile in ("sap_s4hana", "odoo", "kingdee_k3cloud", "yonyou_u8")}
        assert kinds == {"sap_s4hana": [BulkKind.PARTNERS, BulkKind.ORDERS], "odoo": [BulkKind.OFFERS],
                         "kingdee_k3cloud": [BulkKind.MATERIALS], "yonyou_u8": [BulkKind.MATERIALS]}


class TestProfiles:
    async def test_sap_partners_then_purchase_orders(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], erp: FakeErp,
    ) -> None:
        # given
        world = await make_world(session)
        sap_world(erp, world, "4500000017", "4500000018")
        await link_sap_material(session, world)
        connector = await add_connector(session, world.buyer, erp, "sap_s4hana")
        # when
        outcome = await sync(sessionmaker, connector)
        # then
        assert outcome.status == "succeeded", outcome.failures
        assert {kind: (c["fetched"], c["created"]) for kind, c in outcome.summary.items()} == {
            "partners": (1, 1), "orders": (2, 2)}
        orders = (await session.scalars(select(PurchaseOrder).where(PurchaseOrder.buyer_org_id == world.buyer.org.id)
                                        .order_by(PurchaseOrder.reference))).all()
        assert [(o.reference, o.supplier_org_id, o.source) for o in orders] == [
            ("4500000017", world.supplier.org.id, "erp"), ("4500000018", world.supplier.org.id, "erp")]
        line = (await session.scalars(select(OrderLine).where(OrderLine.order_id == orders[0].id))).one()
        assert (line.material_id, line.quantity, line.unit, line.unit_price, str(line.requested_date)) == (
            world.bolt.id, Decimal("20"), "H87", Decimal("1.3"), "2026-01-01")

    async def test_odoo_products_become_offers_priced_in_cny(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], erp: FakeErp,
    ) -> None:
        # given
        world = await make_world(session)
        erp.odoo["product.product"] = [{"id": 7, "sale_ok": True, "default_code": "OD-7",
                                        "x_tradeloom_code": world.bolt.code,
                                        "list_price": 2, "currency_id": [2, "USD"], "uom_id": [1, "Units"],
                                        "x_moq": 50}]
        connector = await add_connector(session, world.supplier, erp, "odoo")
        # when
        outcome = await sync(sessionmaker, connector)
        # then
        assert outcome.status == "succeeded", outcome.failures
        offer = (await session.scalars(select(SupplierOffer).where(SupplierOffer.supplier_part_number == "OD-7"))).one()
        assert (offer.currency, offer.moq, offer.org_id) == ("CNY", Decimal("50"), world.supplier.org.id)

    @pytest.mark.parametrize("profile", ["kingdee_k3cloud", "yonyou_u8"])
    async def test_kingdee_and_yonyou_materials(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], erp: FakeErp, profile: str,
    ) -> None:
        # given
        member = await make_member(session, roles=(Role.ORG_ADMIN,))
        erp.kingdee["BD_MATERIAL"] = [{"FNumber": "01.001", "FName": "六角螺栓", "FSpecification": "Hex bolt",
                                       "FMaterialGroup.FNumber": "01.01", "FBaseUnitId.FNumber": "Pcs"}]
        erp.yonyou["inventory"] = [{"code": "01.001", "name": "六角螺栓", "specs": "Hex bolt", "sort_code": "0101",
                                    "main_measure": "个"}]
        connector = await add_connector(session, member, erp, profile, mapping=with_bolt_attributes(profile))
        # when
        outcome = await sync(sessionmaker, connector)
        # then
        assert outcome.status == "succeeded", outcome.failures
        material = (await session.scalars(select(Material).where(Material.owner_org_id == member.org.id))).one()
        assert (material.name_zh, material.name_en, material.base_unit, material.class_code) == (
            "六角螺栓", "Hex bolt", "H87", "100101")

    async def test_test_connection_says_what_is_wrong(self, session: AsyncSession, erp: FakeErp) -> None:
        # given
        member = await make_member(session, roles=(Role.ORG_ADMIN,))
        good = await add_connector(session, member, erp, "odoo")
        bad = await add_connector(session, member, erp, "sap_s4hana", credentials={"username": "x", "password": "y"})
        # when
        ok = await service.test_connection(session, connector_id=good.id, options=OPTIONS)
        refused = await service.test_connection(session, connector_id=bad.id, options=OPTIONS)
        # then
        assert (ok.ok, ok.message) == (True, "signed in as uid 7")
        assert refused.ok is False and refused.message.startswith("HTTP 401")


class TestFaults:
    async def test_a_failing_erp_is_retried_queued_once_and_nothing_is_duplicated(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], erp: FakeErp,
    ) -> None:
        # given: an ERP that answers 500 to everything for a while
        world = await make_world(session)
        sap_world(erp, world, "4500000017")
        await link_sap_material(session, world)
        connector = await add_connector(session, world.buyer, erp, "sap_s4hana")
        erp.fail_next = 6
        # when: two syncs fail (three attempts each), then the ERP recovers
        first = await sync(sessionmaker, connector)
        second = await sync(sessionmaker, connector)
        failing = await open_errors(session, connector)
        third = await sync(sessionmaker, connector)
        fourth = await sync(sessionmaker, connector)
        # then
        assert (first.status, second.status, third.status, fourth.status) == ("failed", "failed", "succeeded",
                                                                              "succeeded")
        assert failing == [("fetch", None, "connector_unavailable", 2)]
        assert await open_errors(session, connector) == []
        assert fourth.summary["orders"] | {"jobs": []} == {"fetched": 1, "unmapped": 0, "created": 0, "existing": 1,
                                                          "rejected": 0, "jobs": []}
        assert await count(session, PurchaseOrder, PurchaseOrder.buyer_org_id == world.buyer.org.id) == 1

    async def test_a_failure_backs_off_the_schedule(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], erp: FakeErp,
    ) -> None:
        # given
        member = await make_member(session, roles=(Role.ORG_ADMIN,))
        connector = await add_connector(session, member, erp, "odoo")
        erp.fail_next = 3
        # when
        await sync(sessionmaker, connector)
        # then
        stored = (await session.scalars(select(Connector).where(Connector.id == connector.id)
                                        .execution_options(populate_existing=True))).one()
        assert (stored.last_status, stored.consecutive_failures) == ("failed", 1)
        assert stored.next_sync_at is not None and stored.last_sync_at is not None
        assert (stored.next_sync_at - stored.last_sync_at).total_seconds() == 30 * 60

    async def test_a_timeout_is_retried(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], erp: FakeErp,
    ) -> None:
        # given: the first call stalls past the client's timeout
        member = await make_member(session, roles=(Role.ORG_ADMIN,))
        erp.yonyou["inventory"] = [{"code": "01.001", "name": "六角螺栓", "specs": "Hex bolt", "sort_code": "0101",
                                    "main_measure": "个"}]
        connector = await add_connector(session, member, erp, "yonyou_u8", mapping=with_bolt_attributes("yonyou_u8"))
        erp.stall_next, erp.stall_seconds = 1, 1.5
        # when
        outcome = await sync(sessionmaker, connector)
        # then
        assert outcome.status == "succeeded"
        assert erp.calls[:2] == ["GET /system/token", "GET /system/token"]

    async def test_unmappable_and_refused_records_wait_in_the_queue_until_fixed(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], erp: FakeErp,
    ) -> None:
        # given: one order in an unknown unit, one naming a material never synced
        world = await make_world(session)
        sap_world(erp, world, "4500000017", "4500000018")
        items = erp.odata["API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder"]
        items[0]["to_PurchaseOrderItem"]["results"][0]["PurchaseOrderQuantityUnit"] = "BAG"
        connector = await add_connector(session, world.buyer, erp, "sap_s4hana")
        # when
        outcome = await sync(sessionmaker, connector)
        queued = await open_errors(session, connector)
        items[0]["to_PurchaseOrderItem"]["results"][0]["PurchaseOrderQuantityUnit"] = "PC"
        await link_sap_material(session, world)
        fixed = await sync(sessionmaker, connector)
        # then
        assert outcome.status == "partial"
        assert queued == [("map", "4500000017", "mapping_failed", 1),
                          ("record", "4500000018", "order_material_unknown", 1)]
        assert fixed.status == "succeeded" and await open_errors(session, connector) == []
        assert await count(session, PurchaseOrder, PurchaseOrder.buyer_org_id == world.buyer.org.id) == 2

    async def test_a_record_with_a_nul_character_is_queued_and_the_rest_synced(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], erp: FakeErp,
    ) -> None:
        # given: PostgreSQL text cannot hold U+0000; one order's text has it, another's very number
        world = await make_world(session)
        await link_sap_material(session, world)
        sap_world(erp, world, "4500000017", "4500000018", "45000\x0000019")
        erp.odata["API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder"][0]["to_PurchaseOrderItem"]["results"][0][
            "Material"] = "TG\x0011"
        connector = await add_connector(session, world.buyer, erp, "sap_s4hana")
        # when
        outcome = await sync(sessionmaker, connector)
        # then
        assert outcome.status == "partial"
        assert await open_errors(session, connector) == [("map", "4500000017", "mapping_failed", 1),
                                                         ("map", "45000\ufffd00019", "mapping_failed", 1)]
        orders = await session.scalars(select(PurchaseOrder.reference)
                                       .where(PurchaseOrder.buyer_org_id == world.buyer.org.id))
        assert orders.all() == ["4500000018"]


