"""Returned goods move stock: shipping back issues them from the buyer's warehouse, the supplier's confirmation
posts them into its own (reason ``return``), per batch or per serial; a step taken twice moves nothing more.
Serial-tracked goods are put away per serial at the buyer."""

from decimal import Decimal
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.models import GoodsReceipt, StockLevel, StockMovement
from commerce.logistics.service import receiving, stock
from commerce.logistics.service.receiving import ReceiptDraft
from commerce.logistics.service.shipments import ItemDraft, LineDraft
from commerce.orders.service.common import order_lines
from tests.logistics_factories import (
    TRACE,
    LogisticsWorld,
    confirmed_order,
    dispatched,
    make_logistics_world,
    one_batch,
    stock_up,
)
from tests.materials_factories import act_as, as_owner, owner_actor

RETURNS = "/api/v1/logistics/returns"


async def _levels(session: AsyncSession, world: LogisticsWorld) -> dict[tuple[str, str, str], Decimal]:
    """Non-empty levels as {(owner, batch, serial): quantity}, owner "buyer" or "supplier"."""
    owner = {world.buyer_store.location_id: "buyer", world.supplier_store.location_id: "supplier"}
    await as_owner(session)  # sees both organizations' stock (an API call leaves the session as its caller)
    rows = await session.scalars(select(StockLevel).where(StockLevel.quantity > 0)
                                 .execution_options(populate_existing=True))
    return {(owner[row.location_id], row.batch, row.serial): row.quantity for row in rows}


async def _step(client: AsyncClient, url: str, action: str, headers: dict[str, str], etag: str,
                body: dict[str, Any] | None = None) -> Any:
    return await client.post(f"{url}/{action}", json=body or {}, headers=headers | {"If-Match": etag})


async def test_a_return_takes_stock_from_the_buyer_and_gives_it_back_to_the_supplier(
        client: AsyncClient, session: AsyncSession) -> None:
    # given 100 of 500 bolts of batch B-0001 shipped, received and accepted by the buyer
    world = await make_logistics_world(session)
    await stock_up(session, world)
    order = await confirmed_order(session, world)
    (line,) = await order_lines(session, order.id)
    shipment = await dispatched(session, world, order.id, one_batch(world, line.id, "100"))
    buyer, supplier, stranger = world.orders.buyer, world.orders.supplier, world.orders.other_supplier
    await act_as(session, buyer)
    receipt = await receiving.receive_shipment(session, actor=owner_actor(buyer), where=TRACE, draft=ReceiptDraft(
        shipment_id=shipment.id, location_id=world.buyer_store.location_id))
    await as_owner(session)
    receipt_line = (await receiving.receipt_lines(session, receipt_id=receipt.id))[0]
    def asking(quantity: str) -> dict[str, Any]:
        return {"receipt_id": str(receipt.id), "reason": "damaged threads",
                "lines": [{"receipt_line_id": str(receipt_line.id), "quantity": quantity}]}

    bad = [await client.post(RETURNS, json=asking(quantity), headers=buyer.headers) for quantity in ("2.5", "-1")]
    assert [(a.status_code, a.json()["code"]) for a in bad] == [(422, "quantity_invalid"), (422, "validation_failed")]
    created = await client.post(RETURNS, json=asking("10"), headers=buyer.headers)
    url = f"{RETURNS}/{created.json()['id']}"
    approved = await _step(client, url, "approve", supplier.headers, created.headers["etag"])
    assert await _levels(session, world) == {("buyer", "B-0001", ""): 100, ("supplier", "B-0001", ""): 400}

    # when the buyer has only 5 left on the shelf and ships back 10, then a stranger tries
    await act_as(session, buyer)
    await stock.issue_stock(session, actor=owner_actor(buyer), material_id=world.orders.bolt.id,
                            location_id=world.buyer_store.location_id, quantity=Decimal(95), batch="B-0001",
                            reason="used in assembly")
    await as_owner(session)
    short = await _step(client, url, "ship", buyer.headers, approved.headers["etag"])
    foreign = await _step(client, url, "ship", stranger.headers, approved.headers["etag"])
    # then both are refused and nothing moved
    assert (short.status_code, short.json()["code"]) == (409, "stock_insufficient")
    assert (foreign.status_code, foreign.json()["code"]) == (404, "return_not_found")
    assert await _levels(session, world) == {("buyer", "B-0001", ""): 5, ("supplier", "B-0001", ""): 400}

    # when the buyer has them again and ships back, then tries to ship again
    await act_as(session, buyer)
    await stock.receive_stock(session, actor=owner_actor(buyer), material_id=world.orders.bolt.id,
                              location_id=world.buyer_store.location_id, quantity=Decimal(95), batch="B-0001")
    await as_owner(session)
    shipped = await _step(client, url, "ship", buyer.headers, approved.headers["etag"], {"tracking_number": "SF9"})
    again = await _step(client, url, "ship", buyer.headers, shipped.headers["etag"])
    # then the 10 left the buyer's shelf once
    assert shipped.status_code == 200, shipped.text
    assert (again.status_code, again.json()["code"]) == (409, "return_transition_not_allowed")
    assert await _levels(session, world) == {("buyer", "B-0001", ""): 90, ("supplier", "B-0001", ""): 400}

    # when the supplier confirms their arrival twice (a stranger cannot)
    foreign = await _step(client, url, "receive", stranger.headers, shipped.headers["etag"])
    received = await _step(client, url, "receive", supplier.headers, shipped.headers["etag"])
    again = await _step(client, url, "receive", supplier.headers, received.headers["etag"])
    # then they are back where they were picked from, once, as a receipt with reason "return"
    assert foreign.status_code == 404
    assert received.status_code == 200, received.text
    assert (again.status_code, again.json()["code"]) == (409, "return_transition_not_allowed")
    assert await _levels(session, world) == {("buyer", "B-0001", ""): 90, ("supplier", "B-0001", ""): 410}
    moved = await session.execute(select(StockMovement.kind, StockMovement.quantity, StockMovement.org_id).where(
        StockMovement.reason == "return"))
    assert sorted(tuple(row) for row in moved.all()) == sorted([("issue", Decimal(-10), buyer.org.id),
                                            ("receipt", Decimal(10), supplier.org.id)])
    assert await stock.check_levels(session) == []


async def test_serial_tracked_goods_are_received_and_returned_per_serial(
        client: AsyncClient, session: AsyncSession) -> None:
    # given three serial-numbered bolts shipped
    world = await make_logistics_world(session)
    serials = ("SN-1", "SN-2", "SN-3")
    for serial in serials:
        await stock_up(session, world, quantity="1", serial=serial)
    order = await confirmed_order(session, world)
    (line,) = await order_lines(session, order.id)
    shipment = await dispatched(session, world, order.id, LineDraft(order_line_id=line.id, quantity=Decimal(3), items=[
        ItemDraft(location_id=world.supplier_store.location_id, quantity=Decimal(1), batch="B-0001", serial=serial)
        for serial in serials]))
    await as_owner(session)
    buyer, supplier = world.orders.buyer, world.orders.supplier
    shipment_line = (await client.get(f"/api/v1/logistics/shipments/{shipment.id}",
                                      headers=buyer.headers)).json()["lines"][0]["id"]
    receipt_url = f"/api/v1/logistics/shipments/{shipment.id}/receipt"

    def counted(rejected_serials: list[str]) -> dict[str, Any]:
        return {"location_id": str(world.buyer_store.location_id), "inspection": "partial", "lines": [
            {"shipment_line_id": shipment_line, "batch": "B-0001", "accepted": "2", "rejected": "1",
             "rejected_serials": rejected_serials}]}

    # when the buyer rejects one piece without naming it, or naming a serial not shipped, then names SN-2
    unnamed = await client.post(receipt_url, json=counted([]), headers=buyer.headers)
    unknown = await client.post(receipt_url, json=counted(["SN-9"]), headers=buyer.headers)
    received = await client.post(receipt_url, json=counted(["SN-2"]), headers=buyer.headers)
    # then the first two are refused with nothing stored, and the accepted pieces lie on the shelf per serial
    assert [(a.status_code, a.json()["code"]) for a in (unnamed, unknown)] == [(422, "receipt_serials_mismatch")] * 2
    assert received.status_code == 201, received.text
    assert received.json()["lines"][0]["serials"] == ["SN-1", "SN-3"]
    assert await _levels(session, world) == {("buyer", "B-0001", "SN-1"): 1, ("buyer", "B-0001", "SN-3"): 1}
    assert len((await session.scalars(select(GoodsReceipt))).all()) == 1

    # when the buyer asks to return the rejected SN-2 (not accepted), then SN-3
    receipt_line = received.json()["lines"][0]
    body = {"receipt_id": received.json()["id"], "reason": "wrong thread pitch",
            "lines": [{"receipt_line_id": receipt_line["id"], "quantity": "1", "serials": ["SN-2"]}]}
    rejected = await client.post(RETURNS, json=body, headers=buyer.headers)
    body["lines"][0]["serials"] = ["SN-3"]  # type: ignore[index]
    created = await client.post(RETURNS, json=body, headers=buyer.headers)
    assert (rejected.status_code, rejected.json()["code"]) == (422, "return_serials_mismatch")
    assert created.status_code == 201, created.text
    # and it goes through approval, shipping back and arrival
    url, etag = f"{RETURNS}/{created.json()['id']}", created.headers["etag"]
    for action, member in (("approve", supplier), ("ship", buyer), ("receive", supplier)):
        answer = await _step(client, url, action, member.headers, etag)
        assert answer.status_code == 200, answer.text
        etag = answer.headers["etag"]
    # then SN-3 is back on the supplier's shelf, SN-1 stays with the buyer
    assert await _levels(session, world) == {("buyer", "B-0001", "SN-1"): 1, ("supplier", "B-0001", "SN-3"): 1}
    assert await stock.check_levels(session) == []
