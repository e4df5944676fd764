"""Dispatching a shipment moves the order through its ship step, so settlement's prepayment gate holds it too:
refused with a 409 problem naming the missing amount, the shipment left a draft; paid into escrow, it leaves."""

from decimal import Decimal

from httpx import AsyncClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.models import Shipment
from commerce.orders.models import PurchaseOrder
from tests.commerce.logistics.test_api import SHIPMENTS, _line, shipment_body, world  # noqa: F401 - fixture
from tests.factories import make_member
from tests.logistics_factories import LogisticsWorld
from tests.materials_factories import as_owner
from tradeloom.identity.roles import Role


async def test_dispatch_waits_for_the_prepayment(client: AsyncClient, session: AsyncSession,
                                                 world: LogisticsWorld) -> None:  # noqa: F811
    # given a confirmed order of 142.38 CNY gross whose terms ask 30 % before shipping
    line = await _line(session, world)
    await as_owner(session)
    await session.execute(update(PurchaseOrder).where(PurchaseOrder.id == line.order_id)
                          .values(payment_terms="30% prepayment, net 30"))
    supplier = world.orders.supplier
    created = await client.post(SHIPMENTS, json=shipment_body(world, line, "120"), headers=supplier.headers)
    assert created.status_code == 201, created.text
    url = f"{SHIPMENTS}/{created.json()['id']}/dispatch"
    # when the supplier dispatches before the buyer paid
    refused = await client.post(url, headers=supplier.headers | {"If-Match": created.headers["etag"]})
    # then 409 problem+json naming what is missing, and nothing moved
    assert (refused.status_code, refused.json()["code"]) == (409, "prepayment_outstanding")
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "42.71 CNY is still to be paid" in refused.json()["detail"]
    await as_owner(session)
    shipment = await session.get(Shipment, created.json()["id"], populate_existing=True)
    order = await session.get(PurchaseOrder, line.order_id, populate_existing=True)
    assert shipment is not None and order is not None and (shipment.status, order.status) == ("draft", "confirmed")
    # when the buyer's treasurer pays the prepayment into escrow, the dispatch goes through
    treasurer = await make_member(session, org=world.orders.buyer.org, roles=(Role.FINANCE,))
    deposit = await client.post(f"/api/v1/settlement/orders/{line.order_id}/escrow/deposits",
                                json={"amount": "42.71"},
                                headers=treasurer.headers | {"Idempotency-Key": "prepay-escrow-1"})
    assert deposit.status_code in (200, 201), deposit.text
    dispatched = await client.post(url, headers=supplier.headers | {"If-Match": created.headers["etag"]})
    assert dispatched.status_code == 200, dispatched.text
    assert Decimal(str(order.gross_total)) == Decimal("142.38")
