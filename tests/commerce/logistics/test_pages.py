"""Logistics pages over HTTP (forms posted with a bearer token, so without CSRF): refusals shown on the page,
freight quotes priced and awarded, returns approved."""

import re
from decimal import Decimal

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.models import FreightQuote, Shipment
from commerce.logistics.service import freight
from commerce.orders.service.common import order_lines
from tests.factories import make_member
from tests.logistics_factories import confirmed_order, make_logistics_world, one_batch, pack, stock_up
from tests.materials_factories import act_as, as_owner, owner_actor
from tradeloom.identity.roles import OrgKind, Role

ZH = {"Accept-Language": "zh-CN"}


async def test_shipment_form_refuses_fractional_pieces_on_the_page(client: AsyncClient,
                                                                  session: AsyncSession) -> None:
    world = await make_logistics_world(session)
    await stock_up(session, world)
    order = await confirmed_order(session, world)
    (line,) = await order_lines(session, order.id)
    supplier = world.orders.supplier.headers | ZH
    form = await client.get(f"/logistics/shipments/new?order_id={order.id}", headers=supplier)
    assert form.status_code == 200 and "创建发货单" in form.text
    answer = await client.post(f"/logistics/shipments/new?order_id={order.id}", headers=supplier, data={
        "location_id": str(world.supplier_store.location_id), "warehouse_id": str(world.supplier_store.warehouse_id),
        f"qty_{line.id}": "2.5", f"batch_{line.id}": "B-0001"})
    assert answer.status_code == 422 and "whole units" in answer.text
    assert await session.scalar(select(func.count()).select_from(Shipment)) == 0
    stock_page = await client.get("/logistics/stock", headers=supplier)
    assert stock_page.status_code == 200 and "仓库库存" in stock_page.text and "B-0001" in stock_page.text


async def test_a_provider_prices_and_the_shipper_awards_on_the_freight_page(client: AsyncClient,
                                                                          session: AsyncSession) -> None:
    # given a packed shipment and a quote request to a logistics provider
    world = await make_logistics_world(session)
    await stock_up(session, world)
    order = await confirmed_order(session, world)
    (line,) = await order_lines(session, order.id)
    shipment = await pack(session, world, order.id, one_batch(world, line.id, "50"))
    await as_owner(session)
    provider = await make_member(session, roles=(Role.WAREHOUSE,), kind=OrgKind.LOGISTICS_PROVIDER)
    await act_as(session, world.orders.supplier)
    (quote,) = await freight.request_quotes(session, actor=owner_actor(world.orders.supplier),
                                            shipment_id=shipment.id, provider_org_ids=[provider.org.id],
                                            deliver_to="上海市闵行区江川路 1800 号")
    await as_owner(session)
    # when the provider prices it on its page and the supplier awards it on theirs
    page = await client.get("/logistics/freight", headers=provider.headers | ZH)
    assert page.status_code == 200 and "上海市闵行区" in page.text
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    priced = await client.post(f"/logistics/freight/{quote.id}/quote", headers=provider.headers,
                               data={"version": version, "price": "880", "transit_days": "2"})
    assert priced.status_code == 303, priced.text
    awarded = await client.post(f"/logistics/freight/{quote.id}/award", headers=world.orders.supplier.headers,
                                data={"version": str(int(version) + 1)})
    # then the provider carries the shipment
    assert awarded.status_code == 303, awarded.text
    stored = (await session.scalars(select(FreightQuote).execution_options(populate_existing=True))).one()
    assert (stored.status, stored.price) == ("awarded", Decimal(880))
    carried = await client.get("/logistics/shipments?role=carrier", headers=provider.headers | ZH)
    assert shipment.number in carried.text
