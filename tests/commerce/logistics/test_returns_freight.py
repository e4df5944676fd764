"""Returns (RMA) after a goods receipt, and freight quotes from logistics providers, over the API."""

from decimal import Decimal

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.models import GoodsReceiptLine, Shipment
from commerce.logistics.service import receiving
from commerce.logistics.service.receiving import ReceiptDraft
from commerce.orders.service.common import order_lines
from tests.factories import make_member
from tests.logistics_factories import (
    TRACE,
    confirmed_order,
    dispatched,
    make_logistics_world,
    one_batch,
    pack,
    stock_up,
)
from tests.materials_factories import act_as, as_owner, owner_actor
from tradeloom.identity.roles import OrgKind, Role
from tradeloom.outbox.models import OutboxEvent


async def test_a_return_from_request_to_credit_note_trigger(client: AsyncClient, session: AsyncSession) -> None:
    # given 100 bolts received and accepted by the buyer
    world = await make_logistics_world(session)
    await stock_up(session, world)
    order = await confirmed_order(session, world)
    (line,) = await order_lines(session, order.id)
    shipment = await dispatched(session, world, order.id, one_batch(world, line.id, "100"))
    buyer, supplier = world.orders.buyer, world.orders.supplier
    await act_as(session, buyer)
    receipt = await receiving.receive_shipment(session, actor=owner_actor(buyer), where=TRACE, draft=ReceiptDraft(
        shipment_id=shipment.id, location_id=world.buyer_store.location_id))
    await as_owner(session)
    receipt_line = (await session.scalars(select(GoodsReceiptLine.id))).one()
    body = {"receipt_id": str(receipt.id), "reason": "螺纹损坏 damaged threads",
            "lines": [{"receipt_line_id": str(receipt_line), "quantity": "101"}]}
    # when the buyer asks to return more than it accepted, then 10
    too_many = await client.post("/api/v1/logistics/returns", json=body, headers=buyer.headers)
    body["lines"][0]["quantity"] = "10"  # type: ignore[index]
    created = await client.post("/api/v1/logistics/returns", json=body, headers=buyer.headers)
    # then the first is refused, the second requested
    assert (too_many.status_code, too_many.json()["code"]) == (422, "return_exceeds_receipt")
    assert created.status_code == 201, created.text
    url, etag = f"/api/v1/logistics/returns/{created.json()['id']}", created.headers["etag"]
    # when the buyer tries to approve it itself, then the supplier approves, the buyer ships, the supplier receives
    assert (await client.post(f"{url}/approve", json={}, headers=buyer.headers | {"If-Match": etag})).status_code == 403
    for step, member in (("approve", supplier), ("ship", buyer), ("receive", supplier)):
        answer = await client.post(f"{url}/{step}", json={"tracking_number": "SF99"},
                                   headers=member.headers | {"If-Match": etag})
        assert answer.status_code == 200, answer.text
        etag = answer.headers["etag"]
    # then it is received and settlement is told, with the lines to credit
    assert answer.json()["status"] == "received"
    event = (await session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "return.received"))).one()
    assert [(x["order_line_id"], x["quantity"]) for x in event.payload["lines"]] == [(str(line.id), "10")]


async def test_freight_quotes_assign_the_carrier(client: AsyncClient, session: AsyncSession) -> None:
    # given a packed shipment and two logistics providers
    world = await make_logistics_world(session)
    await stock_up(session, world)
    order = await confirmed_order(session, world)
    (line,) = await order_lines(session, order.id)
    shipment = await pack(session, world, order.id, one_batch(world, line.id, "50"))
    await as_owner(session)
    fast, slow = [await make_member(session, roles=(Role.WAREHOUSE,), kind=OrgKind.LOGISTICS_PROVIDER)
                  for _ in range(2)]
    supplier = world.orders.supplier.headers
    url = f"/api/v1/logistics/shipments/{shipment.id}/freight-quotes"
    # when the supplier asks a buyer (not a provider), then both providers
    wrong = await client.post(url, json={"provider_org_ids": [str(world.orders.buyer.org.id)],
                                         "deliver_to": "上海市闵行区"}, headers=supplier)
    asked = await client.post(url, json={"provider_org_ids": [str(fast.org.id), str(slow.org.id)],
                                         "deliver_to": "上海市闵行区"}, headers=supplier)
    assert (wrong.status_code, wrong.json()["code"]) == (422, "freight_provider_invalid")
    assert asked.status_code == 201, asked.text
    # and each provider sees only its own request and prices it
    inbox = (await client.get("/api/v1/logistics/freight-quotes", headers=fast.headers)).json()
    assert [q["provider_org_id"] for q in inbox] == [str(fast.org.id)]
    quoted = await client.post(f"/api/v1/logistics/freight-quotes/{inbox[0]['id']}/quote",
                               json={"price": "860.00", "currency": "CNY", "transit_days": 2},
                               headers=fast.headers | {"If-Match": '"1"'})
    assert quoted.status_code == 200, quoted.text
    # when the supplier awards it
    awarded = await client.post(f"/api/v1/logistics/freight-quotes/{inbox[0]['id']}/award", headers=supplier | {
        "If-Match": quoted.headers["etag"]})
    # then the provider carries the shipment and the other quote is lost
    assert awarded.json()["status"] == "awarded"
    statuses = sorted(q["status"] for q in (await client.get("/api/v1/logistics/freight-quotes",
                                                             headers=supplier)).json())
    assert statuses == ["awarded", "lost"]
    carried = (await client.get("/api/v1/logistics/shipments?role=carrier", headers=fast.headers)).json()
    assert [s["id"] for s in carried] == [str(shipment.id)]
    assert (await session.get(Shipment, shipment.id, populate_existing=True)).carrier_org_id == fast.org.id  # type: ignore[union-attr]
    assert Decimal(awarded.json()["price"]) == Decimal("860")
