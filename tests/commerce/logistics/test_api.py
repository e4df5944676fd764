"""The logistics API: shipments, papers, dispatch, receipt, and the bad input that must change nothing."""

import uuid
from decimal import Decimal
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.models import GoodsReceipt, Shipment, StockBalance, StockMovement
from commerce.orders.models import OrderLine, PurchaseOrder
from commerce.orders.service.common import order_lines
from tests.logistics_factories import LogisticsWorld, confirmed_order, make_logistics_world, stock_up

SHIPMENTS = "/api/v1/logistics/shipments"


@pytest.fixture
async def world(session: AsyncSession) -> LogisticsWorld:
    world = await make_logistics_world(session)
    await stock_up(session, world)
    return world


async def _line(session: AsyncSession, world: LogisticsWorld) -> OrderLine:
    order = await confirmed_order(session, world)
    (line,) = await order_lines(session, order.id)
    return line


def shipment_body(world: LogisticsWorld, line: OrderLine, quantity: str, *, serials: tuple[str, ...] = (),
                  batch: str = "B-0001") -> dict[str, Any]:
    location = str(world.supplier_store.location_id)
    items = ([{"location_id": location, "quantity": "1", "batch": batch, "serial": s, "package": "P01"}
              for s in serials] or [{"location_id": location, "quantity": quantity, "batch": batch, "package": "P01"}])
    return {"order_id": str(line.order_id), "warehouse_id": str(world.supplier_store.warehouse_id),
            "tracking_number": "SF1234567890", "packages": [{"label": "P01", "gross_weight_kg": "12.5"}],
            "lines": [{"order_line_id": str(line.id), "quantity": quantity, "items": items}]}


async def _count(session: AsyncSession, model: type) -> int:
    return await session.scalar(select(func.count()).select_from(model)) or 0


class TestShipping:
    async def test_ship_print_and_dispatch(self, client: AsyncClient, session: AsyncSession,
                                           world: LogisticsWorld) -> None:
        # given a confirmed order line of 300 pieces
        line = await _line(session, world)
        supplier = world.orders.supplier
        # when the supplier packs 120 and dispatches them
        created = await client.post("/api/v1/logistics/shipments", json=shipment_body(world, line, "120"),
                                    headers=supplier.headers)
        assert created.status_code == 201, created.text
        shipment = created.json()
        url = f"/api/v1/logistics/shipments/{shipment['id']}"
        for paper in ("labels.pdf", "packing-list.pdf", "delivery-note.pdf"):
            pdf = await client.get(f"{url}/{paper}", headers=supplier.headers)
            assert (pdf.status_code, pdf.content[:5]) == (200, b"%PDF-"), paper
        dispatched = await client.post(f"{url}/dispatch",
                                       headers=supplier.headers | {"If-Match": created.headers["etag"]})
        # then the shipment is on its way and the order partially shipped
        assert dispatched.status_code == 200, dispatched.text
        assert dispatched.json()["status"] == "dispatched"
        detail = (await client.get(url, headers=world.orders.buyer.headers)).json()
        assert [(item["quantity"], item["identifier_handle"]) for item in detail["items"]] == [
            ("120", f"88.118.8866/{shipment['number']}/001")]
        order = await session.get(PurchaseOrder, line.order_id, populate_existing=True)
        assert order is not None and order.status == "partially_shipped"
        found = await client.get("/api/v1/logistics/shipments/by-label", headers=world.orders.buyer.headers,
                                 params={"code": f"https://x.test/t/88.118.8866/{shipment['number']}/001"})
        assert found.json()["id"] == shipment["id"]
        # and a third organization sees none of it
        stranger = world.orders.other_supplier.headers
        assert (await client.get(url, headers=stranger)).status_code == 404
        assert (await client.get(f"{url}/packing-list.pdf", headers=stranger)).status_code == 404
        assert (await client.get(SHIPMENTS, headers=stranger)).json() == []

    async def test_bad_quantities_are_refused_and_nothing_is_stored(
        self, client: AsyncClient, session: AsyncSession, world: LogisticsWorld,
    ) -> None:
        line = await _line(session, world)
        for quantity, status, code in (("301", 422, "shipment_exceeds_order"), ("2.5", 422, "quantity_invalid"),
                                       ("0", 422, "quantity_invalid"), ("-3", 422, "validation_failed")):
            answer = await client.post(SHIPMENTS, json=shipment_body(world, line, quantity),
                                       headers=world.orders.supplier.headers)
            assert (answer.status_code, answer.headers["content-type"]) == (status, "application/problem+json")
            assert answer.json()["code"] == code, quantity
        assert await _count(session, Shipment) == 0
        assert await _count(session, StockMovement) == 1  # only the stocking-up receipt

    async def test_more_than_in_stock_is_refused(self, client: AsyncClient, session: AsyncSession,
                                                 world: LogisticsWorld) -> None:
        # given 500 in batch B-0001 but none in batch B-0002
        line = await _line(session, world)
        answer = await client.post("/api/v1/logistics/shipments", json=shipment_body(world, line, "10", batch="B-0002"),
                                   headers=world.orders.supplier.headers)
        assert (answer.status_code, answer.json()["code"]) == (409, "stock_insufficient")
        assert await _count(session, Shipment) == 0
        balance = await session.scalar(select(StockBalance))
        assert balance is not None and balance.on_hand == Decimal(500)

    async def test_a_serial_number_ships_once(self, client: AsyncClient, session: AsyncSession,
                                              world: LogisticsWorld) -> None:
        line = await _line(session, world)
        for serial in ("SN-1", "SN-2"):
            await stock_up(session, world, quantity="1", batch="B-0001", serial=serial)
        headers = world.orders.supplier.headers
        first = await client.post(SHIPMENTS, json=shipment_body(world, line, "2", serials=("SN-1", "SN-2")),
                                  headers=headers)
        assert first.status_code == 201, first.text
        await stock_up(session, world, quantity="1", batch="B-0001", serial="SN-1")  # back on the shelf somehow
        again = await client.post(SHIPMENTS, json=shipment_body(world, line, "1", serials=("SN-1",)),
                                  headers=headers)
        assert (again.status_code, again.json()["code"]) == (409, "serial_already_shipped")
        twice = await client.post("/api/v1/logistics/shipments",
                                  json=shipment_body(world, line, "2", serials=("SN-9", "SN-9")), headers=headers)
        assert (twice.status_code, twice.json()["code"]) == (422, "serial_repeated")
        assert await _count(session, Shipment) == 1

    async def test_another_supplier_cannot_ship_the_order(self, client: AsyncClient, session: AsyncSession,
                                                          world: LogisticsWorld) -> None:
        line = await _line(session, world)
        answer = await client.post("/api/v1/logistics/shipments", json=shipment_body(world, line, "1"),
                                   headers=world.orders.other_supplier.headers)
        assert (answer.status_code, answer.json()["code"]) == (404, "order_not_found")


class TestReceiving:
    async def _dispatched(self, client: AsyncClient, session: AsyncSession, world: LogisticsWorld,
                          quantity: str) -> dict[str, Any]:
        line = await _line(session, world)
        headers = world.orders.supplier.headers
        created = await client.post("/api/v1/logistics/shipments", json=shipment_body(world, line, quantity),
                                    headers=headers)
        url = f"/api/v1/logistics/shipments/{created.json()['id']}"
        return (await client.post(f"{url}/dispatch", headers=headers | {"If-Match": created.headers["etag"]})).json()

    async def test_receiving_twice_is_refused(self, client: AsyncClient, session: AsyncSession,
                                              world: LogisticsWorld) -> None:
        # given the whole order dispatched
        shipment = await self._dispatched(client, session, world, "300")
        url = f"/api/v1/logistics/shipments/{shipment['id']}/receipt"
        body = {"location_id": str(world.buyer_store.location_id)}
        buyer = world.orders.buyer.headers
        # when the buyer receives it, then tries again
        first = await client.post(url, json=body, headers=buyer)
        second = await client.post(url, json=body, headers=buyer)
        # then one receipt, the order received, the second refused
        assert first.status_code == 201, first.text
        assert [(x["accepted"], x["rejected"]) for x in first.json()["lines"]] == [("300", "0")]
        assert (second.status_code, second.json()["code"]) == (409, "shipment_already_received")
        assert await _count(session, GoodsReceipt) == 1
        order = await session.get(PurchaseOrder, uuid.UUID(shipment["order_id"]), populate_existing=True)
        assert order is not None and order.status == "received"
        # and an inspection photo is kept with the receipt, for both parties; other files are refused
        photos = f"/api/v1/logistics/receipts/{first.json()['id']}/photos"
        image = b"\x89PNG\r\n\x1a\n" + b"0" * 64
        added = await client.post(photos, files={"file": ("crate.png", image, "image/png")}, headers=buyer)
        assert added.status_code == 201, added.text
        (photo,) = added.json()
        shown = await client.get(f"{photos}/{photo['key']}", headers=world.orders.supplier.headers)
        assert (shown.status_code, shown.content) == (200, image)
        refused = await client.post(photos, files={"file": ("notes.txt", b"hello", "text/plain")}, headers=buyer)
        assert (refused.status_code, refused.json()["code"]) == (422, "receipt_photo_type_refused")
        not_theirs = await client.post(photos, files={"file": ("crate.png", image, "image/png")},
                                       headers=world.orders.supplier.headers)
        assert not_theirs.status_code == 404

    async def test_counts_must_add_up(self, client: AsyncClient, session: AsyncSession,
                                      world: LogisticsWorld) -> None:
        shipment = await self._dispatched(client, session, world, "100")
        detail = (await client.get(f"/api/v1/logistics/shipments/{shipment['id']}",
                                   headers=world.orders.buyer.headers)).json()
        line_id = detail["lines"][0]["id"]
        answer = await client.post(f"/api/v1/logistics/shipments/{shipment['id']}/receipt", json={
            "location_id": str(world.buyer_store.location_id), "inspection": "partial",
            "lines": [{"shipment_line_id": line_id, "batch": "B-0001", "accepted": "90", "rejected": "5"}]},
            headers=world.orders.buyer.headers)
        assert (answer.status_code, answer.json()["code"]) == (422, "receipt_quantities_mismatch")
        assert await _count(session, GoodsReceipt) == 0

    async def test_the_supplier_cannot_receive(self, client: AsyncClient, session: AsyncSession,
                                               world: LogisticsWorld) -> None:
        shipment = await self._dispatched(client, session, world, "100")
        answer = await client.post(f"/api/v1/logistics/shipments/{shipment['id']}/receipt",
                                   json={"location_id": str(world.supplier_store.location_id)},
                                   headers=world.orders.supplier.headers)
        assert answer.status_code == 404
