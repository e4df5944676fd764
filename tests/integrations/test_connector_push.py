"""Pushes: confirmed orders (and invoices) sent to SAP, Odoo, Kingdee and Yonyou through the local ERP, their
key recorded, replays sending nothing twice, failures retried with backoff, into the error queue, and retried."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from commerce.logistics.models import GoodsReceipt
from commerce.orders.models import PurchaseOrder
from commerce.orders.service import transitions
from commerce.orders.service.common import order_lines
from commerce.settlement.invoices import InvoiceLineDraft, issue_invoice
from commerce.settlement.rules import TaxRate
from integrations.connectors import jobs, push
from integrations.connectors.mapping import parse_mapping
from integrations.connectors.models import Connector, ConnectorError, ConnectorPush
from integrations.external_ids.models import ExternalId
from integrations.external_ids.service import Link, ObjectType, record_links
from tests.integrations.erp_push_server import PushErp
from tests.integrations.test_connectors import OPTIONS, add_connector, open_errors
from tests.logistics_factories import make_logistics_world
from tests.materials_factories import act_as, as_owner, owner_actor
from tests.orders_factories import OrderWorld, award_line, make_world, place_order
from tests.settlement_factories import fapiao, receive
from tradeloom.audit import Actor
from tradeloom.db import apply_tenant
from tradeloom.errors import Conflict, Invalid

REFS = {"sap_s4hana": ("17300001", "TG11"), "odoo": ("42", "311"), "kingdee_k3cloud": ("VEN0001", "01.01.0042"),
        "yonyou_u8": ("V001", "INV-0042")}


async def confirmed(session: AsyncSession, world: OrderWorld) -> PurchaseOrder:
    order = await place_order(session, world, award_line(world, "300", "0.42", unit="H87"))
    order = await transitions.submit_order(session, actor=owner_actor(world.buyer), order_id=order.id,
                                           expected_version=order.version)
    await act_as(session, world.supplier)
    order = await transitions.confirm_order(session, actor=owner_actor(world.supplier), order_id=order.id,
                                            expected_version=order.version)
    await as_owner(session)
    return order


async def linked(session: AsyncSession, world: OrderWorld, connector: Connector, profile: str) -> None:
    supplier_ref, material_ref = REFS[profile]
    org_id = world.buyer.org.id
    await record_links(session, org_id=org_id, source_system=connector.name, object_type=ObjectType.ORGANIZATION,
                       links=[Link(supplier_ref, world.supplier.org.id)])
    await record_links(session, org_id=org_id, source_system=connector.name, object_type=ObjectType.MATERIAL,
                       links=[Link(material_ref, world.bolt.id)])


def event(order: PurchaseOrder) -> dict[str, Any]:
    return {"topic": "order.confirmed", "org_id": str(order.supplier_org_id), "payload": {
        "order_id": str(order.id), "number": order.number, "buyer_org_id": str(order.buyer_org_id)}}


async def pushed(session: AsyncSession, connector: Connector) -> list[ConnectorPush]:
    rows = await session.scalars(select(ConnectorPush).where(ConnectorPush.connector_id == connector.id)
                                 .execution_options(populate_existing=True))
    return list(rows.all())


async def setup(session: AsyncSession, erp: PushErp, profile: str, *, link: bool = True
                ) -> tuple[OrderWorld, Connector, PurchaseOrder]:
    world = await make_world(session)
    connector = await add_connector(session, world.buyer, erp, profile)
    await as_owner(session)
    if link:
        await linked(session, world, connector, profile)
    return world, connector, await confirmed(session, world)


class TestPushOrders:
    async def test_sap_gets_the_confirmed_order_with_a_csrf_token_and_its_key_is_recorded(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], push_erp: PushErp,
    ) -> None:
        # given
        _world, connector, order = await setup(session, push_erp, "sap_s4hana")
        # when
        statuses = await jobs._push_for_event(sessionmaker, event(order), OPTIONS)
        # then
        assert statuses == ["sent"]
        assert push_erp.calls[-2:] == ["GET /sap/opu/odata/sap/API_PURCHASEORDER_PROCESS_SRV/ (csrf)",
                                       "POST /sap/opu/odata/sap/API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder"]
        (sent,) = push_erp.created["API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder"]
        assert sent == {
            "PurchaseOrderType": "NB", "CompanyCode": "1010", "PurchasingOrganization": "1010",
            "PurchasingGroup": "001", "Supplier": "17300001", "DocumentCurrency": "CNY",
            "CorrespncExternalReference": order.number,
            "to_PurchaseOrderItem": [{
                "PurchaseOrderItem": "10", "Material": "TG11", "Plant": "1010", "OrderQuantity": "300",
                "PurchaseOrderQuantityUnit": "PC", "NetPriceAmount": "0.42", "DocumentCurrency": "CNY",
                "to_ScheduleLine": [{"ScheduleLineOrderQuantity": "300",
                                     "ScheduleLineDeliveryDate": "/Date(1796860800000)/"}]}]}
        (row,) = await pushed(session, connector)
        assert (row.status, row.external_id, row.attempts, row.document_number) == (
            "sent", "4500000001", 1, order.number)
        link = await session.scalar(select(ExternalId).where(ExternalId.object_id == order.id))
        assert link is not None
        assert (link.source_system, link.object_type, link.external_id) == (
            "sap_s4hana-prod", "purchase_order", "4500000001")

    async def test_the_same_event_twice_sends_the_order_once(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], push_erp: PushErp,
    ) -> None:
        # given
        _world, connector, order = await setup(session, push_erp, "sap_s4hana")
        await jobs._push_for_event(sessionmaker, event(order), OPTIONS)
        # when
        again = await jobs._push_for_event(sessionmaker, event(order), OPTIONS)
        # then
        assert again == []
        assert len(push_erp.created["API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder"]) == 1
        assert len(await pushed(session, connector)) == 1

    @pytest.mark.parametrize(("profile", "created_in", "their_key"), [
        ("odoo", "purchase.order", "101"),
        ("kingdee_k3cloud", "PUR_PurchaseOrder", "CGDD000001"),
        ("yonyou_u8", "purchaseorder", "0000000002"),
    ])
    async def test_odoo_kingdee_and_yonyou_get_it_in_their_shape(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], push_erp: PushErp,
        profile: str, created_in: str, their_key: str,
    ) -> None:
        # given
        _world, connector, order = await setup(session, push_erp, profile)
        # when
        statuses = await jobs._push_for_event(sessionmaker, event(order), OPTIONS)
        # then
        assert statuses == ["sent"]
        (sent,) = push_erp.created[created_in]
        (row,) = await pushed(session, connector)
        assert row.external_id == their_key
        supplier_ref, material_ref = REFS[profile]
        if profile == "odoo":
            assert sent["partner_id"] == 42 and sent["partner_ref"] == order.number
            assert sent["order_line"] == [[0, 0, {"product_id": 311, "name": order_line_code(sent),
                                                  "product_qty": "300", "price_unit": "0.42",
                                                  "date_planned": "2026-12-10"}]]
        elif profile == "kingdee_k3cloud":
            assert sent["FSupplierId"] == {"FNumber": supplier_ref}
            assert sent["FPOOrderEntry"] == [{"FMaterialId": {"FNumber": material_ref}, "FUnitId": {"FNumber": "Pcs"},
                                              "FQty": "300", "FTaxPrice": "0.42", "FDeliveryDate": "2026-12-10"}]
        else:
            today = dt.datetime.now(dt.UTC).date().isoformat()
            assert sent == {"code": order.number, "date": today, "vendorcode": supplier_ref,
                            "entry": [{"inventorycode": material_ref, "quantity": "300", "originalprice": "0.42",
                                       "arrivedate": "2026-12-10"}]}
            assert push_erp.calls.count("GET /system/tradeid") == 1


    async def test_sap_gets_the_invoice_against_the_order_pushed_before(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], push_erp: PushErp,
    ) -> None:
        # given: the order went to SAP as 4500000001, then the supplier invoices all 300 pieces
        world, connector, order = await setup(session, push_erp, "sap_s4hana")
        await jobs._push_for_event(sessionmaker, event(order), OPTIONS)
        line = (await order_lines(session, order.id))[0]
        await act_as(session, world.supplier)
        document = await issue_invoice(session, actor=owner_actor(world.supplier), fapiao=fapiao("44009999"), lines=[
            InvoiceLineDraft(order.id, line.id, Decimal(300), Decimal("0.42"), TaxRate.STANDARD)])
        await as_owner(session)
        issued = {"topic": "invoice.issued", "org_id": str(world.supplier.org.id), "payload": {
            "invoice_id": str(document.id), "fapiao_number": "44009999", "buyer_org_id": str(order.buyer_org_id)}}
        # when
        statuses = await jobs._push_for_event(sessionmaker, issued, OPTIONS)
        # then
        assert statuses == ["sent"]
        (sent,) = push_erp.created["API_SUPPLIERINVOICE_PROCESS_SRV/A_SupplierInvoice"]
        assert sent == {
            "CompanyCode": "1010", "DocumentDate": "/Date(1795132800000)/", "PostingDate": "/Date(1795132800000)/",
            "InvoicingParty": "17300001", "SupplierInvoiceIDByInvcgParty": "44009999", "DocumentCurrency": "CNY",
            "InvoiceGrossAmount": "142.38", "to_SuplrInvcItemPurOrdRef": [{
                "SupplierInvoiceItem": "10", "PurchaseOrder": "4500000001", "PurchaseOrderItem": "10",
                "DocumentCurrency": "CNY", "SupplierInvoiceItemAmount": "126", "QuantityInPurchaseOrderUnit": "300",
                "PurchaseOrderQuantityUnit": "PC"}]}
        rows = {row.kind: row.external_id for row in await pushed(session, connector)}
        assert rows == {"purchase_order": "4500000001", "invoice": "5105600002"}


    async def test_sap_gets_the_goods_receipt_as_a_material_document_against_the_order(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], push_erp: PushErp,
    ) -> None:
        # given: the order went to SAP as 4500000001; the buyer receives 300 pieces
        logistics = await make_logistics_world(session)
        world = logistics.orders
        connector = await add_connector(session, world.buyer, push_erp, "sap_s4hana")
        await as_owner(session)
        await linked(session, world, connector, "sap_s4hana")
        order = await confirmed(session, world)
        await jobs._push_for_event(sessionmaker, event(order), OPTIONS)
        await receive(session, logistics, order, (await order_lines(session, order.id))[0], "300")
        receipt = await session.scalar(select(GoodsReceipt).where(GoodsReceipt.order_id == order.id))
        assert receipt is not None
        received = {"topic": "goods.received", "org_id": str(world.buyer.org.id), "payload": {
            "receipt_id": str(receipt.id), "receipt_number": receipt.number, "buyer_org_id": str(order.buyer_org_id)}}
        # when
        statuses = await jobs._push_for_event(sessionmaker, received, OPTIONS)
        # then
        assert statuses == ["sent"]
        (sent,) = push_erp.created["API_MATERIAL_DOCUMENT_SRV/A_MaterialDocumentHeader"]
        day = receipt.received_at.date()
        odata_day = f"/Date({int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)})/"
        assert sent == {
            "GoodsMovementCode": "01", "PostingDate": odata_day, "DocumentDate": odata_day,
            "MaterialDocumentHeaderText": receipt.number, "to_MaterialDocumentItem": [{
                "Material": "TG11", "Plant": "1010", "GoodsMovementType": "101", "PurchaseOrder": "4500000001",
                "PurchaseOrderItem": "10", "QuantityInEntryUnit": "300", "EntryUnit": "PC"}]}
        rows = {row.kind: row.external_id for row in await pushed(session, connector)}
        assert rows == {"purchase_order": "4500000001", "goods_receipt": "4900000002"}


def order_line_code(sent: dict[str, Any]) -> str:
    return str(sent["order_line"][0][2]["name"])


class TestPushFaults:
    async def test_an_erp_down_leaves_it_pending_with_backoff_then_the_retry_sends_it(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], push_erp: PushErp,
    ) -> None:
        # given: their system answers 500 to every call of the first attempt (3 tries)
        world, connector, order = await setup(session, push_erp, "sap_s4hana")
        push_erp.fail_next = 3
        # when
        statuses = await jobs._push_for_event(sessionmaker, event(order), OPTIONS)
        # then
        assert statuses == ["pending"]
        (row,) = await pushed(session, connector)
        assert row.attempts == 1 and row.next_attempt_at is not None
        assert row.next_attempt_at > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=50)
        assert await open_errors(session, connector) == [("push", order.number, "connector_unavailable", 1)]
        assert "API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder" not in push_erp.created
        # when: an admin retries from the error queue, and the job runs
        await apply_tenant(session, org_id=world.buyer.org.id, user_id=world.admin.user.id)
        (push_id,) = [p.id for p in await push.list_pushes(session, connector_id=connector.id, status=None)]
        errors = await _error_ids(session, connector)
        await push.retry_error(session, actor=Actor(org_id=world.buyer.org.id, user_id=world.admin.user.id),
                               error_id=errors[0])
        status = await push.run_push(sessionmaker, org_id=world.buyer.org.id, push_id=push_id, options=OPTIONS)
        # then
        assert status == "sent"
        await as_owner(session)
        assert await open_errors(session, connector) == []
        assert len(push_erp.created["API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder"]) == 1

    async def test_a_refusal_fails_at_once_and_a_retry_after_the_fix_sends_it(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], push_erp: PushErp,
    ) -> None:
        # given: the supplier was never synced, so SAP is sent no Supplier and refuses (400)
        world, connector, order = await setup(session, push_erp, "sap_s4hana", link=False)
        # when
        statuses = await jobs._push_for_event(sessionmaker, event(order), OPTIONS)
        # then
        assert statuses == ["failed"]
        (row,) = await pushed(session, connector)
        assert row.attempts == 1 and row.next_attempt_at is None and "Enter a supplier" in (row.last_error or "")
        assert await open_errors(session, connector) == [("push", order.number, "connector_refused", 1)]
        # when: the keys are synced, and the admin retries the push
        await linked(session, world, connector, "sap_s4hana")
        actor = Actor(org_id=world.buyer.org.id, user_id=world.admin.user.id)
        await apply_tenant(session, org_id=actor.org_id, user_id=actor.user_id)
        await push.retry_push(session, actor=actor, push_id=row.id)
        status = await push.run_push(sessionmaker, org_id=actor.org_id, push_id=row.id, options=OPTIONS)
        # then
        assert status == "sent"
        with pytest.raises(Conflict) as refused:
            await push.retry_push(session, actor=actor, push_id=row.id)
        assert refused.value.code == "connector_push_sent"

    async def test_gives_up_after_the_last_attempt(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], push_erp: PushErp,
    ) -> None:
        # given: a push on its last attempt, their system down
        world, connector, order = await setup(session, push_erp, "sap_s4hana")
        push_erp.fail_next = 1000
        await jobs._push_for_event(sessionmaker, event(order), OPTIONS)
        (row,) = await pushed(session, connector)
        row.attempts = push.MAX_ATTEMPTS - 1
        row.status = "pending"
        await session.flush()
        # when
        status = await push.run_push(sessionmaker, org_id=world.buyer.org.id, push_id=row.id, options=OPTIONS)
        # then
        assert status == "failed"
        assert await open_errors(session, connector) == [("push", order.number, "connector_unavailable", 2)]

    async def test_another_organization_neither_sees_nor_retries_the_push(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], push_erp: PushErp,
    ) -> None:
        world, connector, order = await setup(session, push_erp, "sap_s4hana")
        await jobs._push_for_event(sessionmaker, event(order), OPTIONS)
        (row,) = await pushed(session, connector)
        await act_as(session, world.supplier)
        assert await push.list_pushes(session, connector_id=connector.id, status=None) == []
        with pytest.raises(Exception) as refused:
            await push.retry_push(session, actor=owner_actor(world.supplier), push_id=row.id)
        assert getattr(refused.value, "code", None) == "connector_push_not_found"


async def _error_ids(session: AsyncSession, connector: Connector) -> list[uuid.UUID]:
    rows = await session.scalars(select(ConnectorError.id).where(ConnectorError.connector_id == connector.id,
                                                                 ConnectorError.status == "open"))
    return list(rows.all())


class TestPushMapping:
    @pytest.mark.parametrize(("events", "message"), [
        ("[invoice.issued]", "purchase_order is pushed on order.confirmed, not on invoice.issued"),
        ("[order.shipped]", "not on order.shipped"),
    ])
    def test_a_push_on_an_event_that_does_not_send_its_kind_is_refused(self, events: str, message: str) -> None:
        with pytest.raises(Invalid) as refused:
            parse_mapping(f"pushes:\n  - kind: purchase_order\n    events: {events}\n    target: {{model: x}}\n"
                          "    fields: {a: number}\n")
        assert refused.value.code == "connector_mapping_invalid"
        assert any(message in error["detail"] for error in refused.value.errors)

    def test_a_mapping_must_pull_or_push_something(self) -> None:
        with pytest.raises(Invalid) as refused:
            parse_mapping("pulls: []\npushes: []\n")
        assert "name at least one pull or push" in refused.value.errors[0]["detail"]
