"""Bulk jobs: 202 with a job URL, per-record reports, idempotent by external id, hostile batches refused."""

import asyncio
import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from catalog.models import Material, PriceList, SupplierOffer
from commerce.logistics.models import StockMovement
from commerce.logistics.service.stock import stock_levels
from commerce.orders.models import PurchaseOrder
from commerce.settlement.invoice_models import Invoice
from integrations.bulk.models import BulkJob
from integrations.bulk.records import BulkKind
from integrations.bulk.service import request_bulk, run_bulk
from tests.conftest import truncate_all
from tests.factories import Member, make_member
from tests.logistics_factories import make_logistics_world, stock_up
from tests.materials_factories import act_as, as_owner
from tests.orders_factories import OrderWorld, make_world
from tests.settlement_factories import receive, settlement_order
from tradeloom.audit import Actor
from tradeloom.db import apply_tenant, make_sessionmaker
from tradeloom.identity.roles import Role

BULK = "/api/v1/bulk"
TODAY = dt.date(2026, 11, 25)


def bolt(external_id: str, length: int = 30) -> dict[str, Any]:
    return {"external_id": external_id, "class_code": "100101", "name_zh": f"六角螺栓 M8x{length}",
            "name_en": f"Hex bolt M8x{length}", "base_unit": "H87",
            "attributes": {"thread": "M8", "length_mm": length, "material": "SS304"}}


def order(world: OrderWorld, external_id: str, *material_codes: str) -> dict[str, Any]:
    return {"external_id": external_id, "supplier_uscc": world.supplier.org.uscc, "delivery_site_code": "PLANT-1",
            "currency": "CNY", "lines": [{"material_code": code, "quantity": "10", "unit": "H87",
                                          "unit_price": "1.25"} for code in material_codes]}


async def submit(client: AsyncClient, member: Member, kind: str, records: list[dict[str, Any]],
                 source_system: str = "sap-prod", key: str | None = None) -> dict[str, Any]:
    headers = member.headers | ({"Idempotency-Key": key} if key else {})
    response = await client.post(f"{BULK}/{kind}", headers=headers,
                                 json={"source_system": source_system, "records": records})
    assert response.status_code == 202, response.text
    return dict(response.json())


async def run_and_show(client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], member: Member,
                       job: dict[str, Any]) -> dict[str, Any]:
    await run_bulk(sessionmaker, org_id=member.org.id, job_id=uuid.UUID(job["id"]), today=TODAY)
    response = await client.get(job["url"], headers=member.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def count(session: AsyncSession, model: type, *where: object) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


class TestMaterials:
    async def test_records_become_materials_mapped_by_external_id(
        self, client: AsyncClient, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        # given
        member = await make_member(session, roles=(Role.BUYER, Role.AUDITOR))
        # when
        job = await submit(client, member, "materials", [bolt("MAT-1", 30), bolt("MAT-2", 40)])
        shown = await run_and_show(client, sessionmaker, member, job)
        resolved = await client.get("/api/v1/external-ids/resolve", headers=member.headers,
                                    params={"source_system": "sap-prod", "object_type": "material",
                                            "external_id": "MAT-2"})
        # then
        assert job["url"] == f"{BULK}/jobs/{job['id']}" and job["status"] == "queued"
        assert (shown["status"], shown["total_records"], shown["processed_records"], shown["created_count"]) == (
            "succeeded", 2, 2, 2)
        assert [(r["index"], r["external_id"], r["status"]) for r in shown["results"]] == [
            (0, "MAT-1", "created"), (1, "MAT-2", "created")]
        material = await session.get(Material, uuid.UUID(shown["results"][1]["object_id"]))
        assert material is not None and (material.name_en, material.owner_org_id) == ("Hex bolt M8x40", member.org.id)
        assert resolved.json()["object_id"] == str(material.id)

    async def test_a_replayed_job_creates_nothing_twice(
        self, client: AsyncClient, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        # given
        member = await make_member(session, roles=(Role.BUYER,))
        first = await run_and_show(client, sessionmaker, member,
                                   await submit(client, member, "materials", [bolt("MAT-1")]))
        before = await count(session, Material)
        # when: the same records again, plus a new one
        again = await run_and_show(client, sessionmaker, member,
                                   await submit(client, member, "materials", [bolt("MAT-1"), bolt("MAT-3", 50)]))
        # then
        assert [r["status"] for r in again["results"]] == ["existing", "created"]
        assert again["results"][0]["object_id"] == first["results"][0]["object_id"]
        assert await count(session, Material) == before + 1

    async def test_bad_records_are_reported_and_the_good_ones_written(
        self, client: AsyncClient, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        # given
        member = await make_member(session, roles=(Role.BUYER,))
        records = [bolt("MAT-1"), bolt("MAT-2") | {"class_code": "999999"}, {"external_id": "MAT-3", "name": 1},
                   bolt("MAT-1", 60), {"external_id": 17}]
        # when
        shown = await run_and_show(client, sessionmaker, member, await submit(client, member, "materials", records))
        # then
        results = shown["results"]
        assert [r["status"] for r in results] == ["created", "rejected", "rejected", "rejected", "rejected"]
        assert {(p["pointer"], p["code"]) for p in results[1]["problems"]} >= {("/class_code", "unknown_class")}
        assert ("/name", "extra_forbidden") in {(p["pointer"], p["code"]) for p in results[2]["problems"]}
        assert results[3]["problems"] == [{"pointer": "/external_id", "code": "duplicate_in_request",
                                           "message": "record 0 has the same external id"}]
        assert (results[4]["external_id"], results[4]["problems"][0]["pointer"]) == (None, "/external_id")
        assert (shown["created_count"], shown["rejected_count"]) == (1, 4)


class TestRequests:
    async def test_an_idempotency_key_replay_returns_the_same_job(self, client: AsyncClient,
                                                                  session: AsyncSession) -> None:
        # given
        member = await make_member(session, roles=(Role.BUYER,))
        first = await submit(client, member, "materials", [bolt("MAT-1")], key="bulk-job-0001")
        # when
        second = await submit(client, member, "materials", [bolt("MAT-1")], key="bulk-job-0001")
        # then
        assert second["id"] == first["id"]

    async def test_more_than_ten_thousand_records_is_413(self, client: AsyncClient, session: AsyncSession) -> None:
        # given
        member = await make_member(session, roles=(Role.BUYER,))
        # when
        response = await client.post(f"{BULK}/materials", headers=member.headers,
                                     json={"source_system": "sap", "records": [{"external_id": "x"}] * 10_001})
        # then
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "bulk_too_many_records"

    async def test_a_malformed_envelope_is_422_and_queues_nothing(self, client: AsyncClient,
                                                                  session: AsyncSession) -> None:
        # given
        member = await make_member(session, roles=(Role.BUYER,))
        # when
        response = await client.post(f"{BULK}/materials", headers=member.headers,
                                     json={"source_system": "../etc", "records": []})
        # then
        assert response.status_code == 422
        assert {e["pointer"] for e in response.json()["errors"]} == {"/source_system", "/records"}

    async def test_a_record_with_a_nul_character_is_422_and_queues_nothing(self, client: AsyncClient,
                                                                         session: AsyncSession) -> None:
        # given
        member = await make_member(session, roles=(Role.BUYER,))
        # when: PostgreSQL's jsonb cannot hold U+0000, in a value or in a key
        answers = [await client.post(f"{BULK}/materials", headers=member.headers,
                                     json={"source_system": "sap", "records": [record]})
                   for record in ({"external_id": "x\u0000"}, {"external_id\u0000": "x"})]
        # then
        assert [(a.status_code, a.json()["code"]) for a in answers] == [(422, "invalid_text")] * 2
        assert await count(session, BulkJob) == 0

    async def test_kinds_need_their_permission_and_jobs_stay_in_their_tenant(
        self, client: AsyncClient, session: AsyncSession,
    ) -> None:
        # given
        buyer = await make_member(session, roles=(Role.BUYER,))
        stranger = await make_member(session, roles=(Role.BUYER, Role.ORG_ADMIN))
        job = await submit(client, buyer, "materials", [bolt("MAT-1")])
        # when
        offers = await client.post(f"{BULK}/offers", headers=buyer.headers,
                                   json={"source_system": "sap", "records": [{"external_id": "x"}]})
        foreign = await client.get(job["url"], headers=stranger.headers)
        # then
        assert (offers.status_code, offers.json()["code"]) == (403, "permission_denied")
        assert (foreign.status_code, foreign.json()["code"]) == (404, "bulk_job_not_found")


class TestOffersAndPriceLists:
    async def test_offers_and_a_price_list_are_created_once(
        self, client: AsyncClient, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        # given
        world = await make_world(session)
        offer = {"external_id": "OF-1", "supplier_part_number": "SP-9", "material_code": world.bolt.code,
                 "currency": "CNY", "order_unit": "H87",
                 "price_tiers": [{"min_quantity": "1", "unit_price": "2.50"},
                                 {"min_quantity": "100", "unit_price": "2.10"}]}
        price_list = {"external_id": "PL-1", "name": "2027 contract", "buyer_uscc": world.buyer.org.uscc,
                      "currency": "CNY", "valid_from": "2027-01-01",
                      "lines": [{"material_code": world.bolt.code, "unit_price": "1.90"},
                                {"material_code": world.bolt.code, "min_quantity": "500", "unit_price": "1.70"}]}
        # when
        offers = await run_and_show(client, sessionmaker, world.supplier,
                                    await submit(client, world.supplier, "offers", [offer]))
        lists = await run_and_show(client, sessionmaker, world.supplier,
                                   await submit(client, world.supplier, "price_lists", [price_list]))
        replay = await run_and_show(client, sessionmaker, world.supplier,
                                    await submit(client, world.supplier, "price_lists", [price_list]))
        # then
        stored_offer = await session.get(SupplierOffer, uuid.UUID(offers["results"][0]["object_id"]))
        assert stored_offer is not None and stored_offer.supplier_part_number == "SP-9"
        assert lists["results"][0]["status"] == "created"
        assert replay["results"][0] == lists["results"][0] | {"status": "existing"}
        assert await count(session, PriceList, PriceList.name == "2027 contract") == 1


class TestOrders:
    async def test_unknown_materials_refuse_only_their_order(
        self, client: AsyncClient, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        # given
        world = await make_world(session)
        records = [order(world, "PO-1", world.bolt.code), order(world, "PO-2", world.bolt.code, "999999-0001-X"),
                   order(world, "PO-3", world.bolt.code) | {"delivery_site_code": "NOWHERE"}]
        # when
        job = await submit(client, world.buyer, "orders", records)
        shown = await run_and_show(client, sessionmaker, world.buyer, job)
        # then
        results = shown["results"]
        assert [r["status"] for r in results] == ["created", "rejected", "rejected"]
        assert [(p["pointer"], p["code"]) for p in results[1]["problems"]] == [
            ("/lines/1/material_code", "order_material_unknown")]
        assert [(p["pointer"], p["code"]) for p in results[2]["problems"]] == [
            ("/delivery_site_code", "order_site_unknown")]
        placed = await session.get(PurchaseOrder, uuid.UUID(results[0]["object_id"]))
        assert placed is not None and (placed.source, placed.reference, placed.status) == ("erp", "PO-1", "draft")

    async def test_an_erp_sending_the_same_order_twice_gets_one_order(
        self, client: AsyncClient, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        # given
        world = await make_world(session)
        record = order(world, "4500000017", world.bolt.code)
        job = await submit(client, world.buyer, "orders", [record])
        first = await run_and_show(client, sessionmaker, world.buyer, job)
        # when: the same order again, in a new request and twice within one request
        second = await run_and_show(client, sessionmaker, world.buyer,
                                    await submit(client, world.buyer, "orders", [record, record]))
        # then
        assert [r["status"] for r in second["results"]] == ["existing", "rejected"]
        assert second["results"][0]["object_id"] == first["results"][0]["object_id"]
        assert await count(session, PurchaseOrder, PurchaseOrder.buyer_org_id == world.buyer.org.id) == 1

    async def test_an_order_refused_by_the_orders_module_rolls_back_only_itself(
        self, client: AsyncClient, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        # given: the second record's currency is not ISO 4217
        world = await make_world(session)
        records = [order(world, "PO-1", world.bolt.code),
                   order(world, "PO-2", world.bolt.code) | {"currency": "XXX"},
                   order(world, "PO-3", world.bolt.code)]
        # when
        job = await submit(client, world.buyer, "orders", records)
        shown = await run_and_show(client, sessionmaker, world.buyer, job)
        # then
        assert [r["status"] for r in shown["results"]] == ["created", "rejected", "created"]
        assert shown["results"][1]["problems"][0]["code"] == "order_currency_unknown"
        numbers = (await session.scalars(select(PurchaseOrder.number).where(
            PurchaseOrder.buyer_org_id == world.buyer.org.id).order_by(PurchaseOrder.number))).all()
        assert len(numbers) == 2 and numbers[1].endswith("2")  # no gap: the refused order used no number


class TestConcurrentJobs:
    async def test_two_jobs_with_the_same_orders_at_once_create_each_order_once(self, engine: AsyncEngine) -> None:
        # given: two committed jobs carrying the same three orders (an ERP that retried while the first ran)
        sessionmaker = make_sessionmaker(engine)
        try:
            async with sessionmaker() as setup, setup.begin():
                world = await make_world(setup)
                records = [order(world, f"PO-{n}", world.bolt.code) for n in range(3)]
                await apply_tenant(setup, org_id=world.buyer.org.id, user_id=world.buyer.user.id)
                actor = Actor(org_id=world.buyer.org.id, user_id=world.buyer.user.id)
                jobs = [(await request_bulk(setup, actor=actor, kind=BulkKind.ORDERS, source_system="sap-prod",
                                            records=records)).id for _ in range(2)]
            # when both run at the same time
            statuses = await asyncio.gather(*(run_bulk(sessionmaker, org_id=world.buyer.org.id, job_id=job_id,
                                                       today=TODAY) for job_id in jobs))
            # then one created the orders, the other found them
            async with sessionmaker() as check:
                finished = (await check.scalars(select(BulkJob).where(BulkJob.id.in_(jobs)))).all()
                placed = await count(check, PurchaseOrder, PurchaseOrder.buyer_org_id == world.buyer.org.id)
            assert statuses == ["succeeded", "succeeded"]
            assert sorted((job.created_count, job.existing_count) for job in finished) == [(0, 3), (3, 0)]
            assert placed == 3
        finally:
            await truncate_all(engine)


class TestStockLevelsAndInvoices:
    async def test_counted_levels_are_adjustments_and_a_replay_moves_nothing(
        self, client: AsyncClient, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        # given 500 bolts of batch B-0001 on the supplier's shelf
        world = await make_logistics_world(session)
        await stock_up(session, world, "500", batch="B-0001")
        supplier, code = world.orders.supplier, world.orders.bolt.code
        counted = [
            {"external_id": "CNT-1", "material_code": code, "warehouse_code": "WH-1", "location_code": "A-01",
             "quantity": "350", "unit": "H87", "batch": "B-0001", "as_of": "2026-11-25T08:00:00Z"},
            {"external_id": "CNT-2", "material_code": code, "warehouse_code": "WH-1", "location_code": "A-01",
             "quantity": 40, "unit": "H87", "batch": "B-0002"},
            {"external_id": "CNT-3", "material_code": code, "warehouse_code": "WH-1", "location_code": "Z-99",
             "quantity": "1", "unit": "H87"},
        ]
        # when the WMS sends its counts, then the same job again
        first = await run_and_show(client, sessionmaker, supplier, await submit(client, supplier, "stock_levels",
                                                                                counted, source_system="wms"))
        again = await run_and_show(client, sessionmaker, supplier, await submit(client, supplier, "stock_levels",
                                                                                counted, source_system="wms"))
        # then the levels are what was counted, through adjustment movements, each made once
        assert [r["status"] for r in first["results"]] == ["created", "created", "rejected"]
        assert first["results"][2]["problems"][0]["code"] == "stock_location_unknown"
        assert [r["status"] for r in again["results"]] == ["existing", "existing", "rejected"]
        await act_as(session, supplier)
        levels = {level.batch: level.quantity for level in await stock_levels(session)}
        moves = list(await session.scalars(select(StockMovement.quantity).where(
            StockMovement.kind == "adjustment").order_by(StockMovement.id)))
        assert levels == {"B-0001": Decimal(350), "B-0002": Decimal(40)}
        assert moves == [Decimal(-150), Decimal(40)]

    async def test_invoices_are_issued_once_and_a_bad_line_refuses_its_record(
        self, client: AsyncClient, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        # given an order of 10 boxes at 100.00, received in full
        world = await make_logistics_world(session)
        placed, line = await settlement_order(session, world)
        await receive(session, world, placed, line, "10")
        supplier = world.orders.supplier

        def fapiao(external_id: str, number: str, line_no: int) -> dict[str, Any]:
            return {"external_id": external_id, "order_number": placed.number, "fapiao_number": number,
                    "issue_date": "2026-11-24", "lines": [{"order_line_no": line_no, "quantity": "10",
                                                           "unit_price": "100.00", "tax_rate": "13"}]}

        records = [fapiao("INV-1", "44000001", 1), fapiao("INV-2", "44000002", 7)]
        # when the supplier's ERP sends its invoices, twice
        first = await run_and_show(client, sessionmaker, supplier, await submit(client, supplier, "invoices", records))
        again = await run_and_show(client, sessionmaker, supplier, await submit(client, supplier, "invoices", records))
        # then one invoice, with its fapiao number and amounts; the bad line refused its record only
        assert [r["status"] for r in first["results"]] == ["created", "rejected"]
        assert first["results"][1]["problems"] == [{"pointer": "/lines/0/order_line_no",
                                                    "code": "invoice_order_line_unknown",
                                                    "message": "the order has no line 7"}]
        assert [r["status"] for r in again["results"]] == ["existing", "rejected"]
        await as_owner(session)
        issued = list(await session.scalars(select(Invoice).where(Invoice.supplier_org_id == supplier.org.id)))
        assert [(i.id, i.fapiao_number, i.gross_total) for i in issued] == [
            (uuid.UUID(first["results"][0]["object_id"]), "44000001", Decimal("1130.00"))]
