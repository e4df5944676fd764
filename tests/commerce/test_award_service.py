"""The award step in isolation: split awards become purchase orders through the OrderPlacer port (a recording
fake here; the orders module is wired at composition), and every quoting supplier hears the outcome."""

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.orders.models import OrderLine, PurchaseOrder
from commerce.orders.placer import OrdersPlacer
from commerce.rfq.schemas import AwardIn, QuotationIn, RfqCreate
from commerce.rfq.service.award import award_rfq
from commerce.rfq.service.quotations import submit_quotation
from commerce.rfq.service.requests import create_rfq
from tests.commerce_factories import RecordingOrderPlacer, close_bidding, make_market, quotation_body, rfq_body
from tests.materials_factories import act_as, as_owner, owner_actor
from tradeloom.outbox.models import OutboxEvent


async def test_split_award_places_one_order_per_winner_and_tells_the_loser(session: AsyncSession) -> None:
    # given three suppliers quoting the same line
    market = await make_market(session)
    await act_as(session, market.buyer)
    body = rfq_body(market, supplier_org_ids=[str(s.org.id) for s in market.suppliers])
    view = await create_rfq(session, actor=owner_actor(market.buyer), fields=RfqCreate.model_validate(body))
    rfq_id = view.rfq.id
    rfq = {"id": str(rfq_id), "lines": [{"id": str(line.id)} for line in view.lines]}
    quoted = {}
    for supplier, price in zip(market.suppliers, ("9.50", "9.80", "12.00"), strict=True):
        await act_as(session, supplier)
        fields = QuotationIn.model_validate(quotation_body(rfq, price=price))
        submitted = await submit_quotation(session, actor=owner_actor(supplier), rfq_id=rfq_id, fields=fields)
        quoted[supplier.org.id] = str(submitted.lines[0].id)
    await close_bidding(session, rfq_id)
    first, second, third = market.suppliers
    placer = RecordingOrderPlacer()
    # when the buyer splits the line 3,000 / 2,000 between the two cheapest
    await act_as(session, market.buyer)
    awards = await award_rfq(session, actor=owner_actor(market.buyer), rfq_id=rfq_id, expected_version=1,
                             placer=placer, fields=AwardIn.model_validate({"outcome": "order", "lines": [
                                 {"quotation_line_id": quoted[first.org.id], "quantity": "3000"},
                                 {"quotation_line_id": quoted[second.org.id], "quantity": "2000"}]}))
    # then one order per winner went through the port, priced per the buyer's unit
    calls = sorted(placer.calls, key=lambda call: str(call["supplier_org_id"]))
    expected = sorted([(first.org.id, Decimal(3000), Decimal("0.095")),
                       (second.org.id, Decimal(2000), Decimal("0.098"))], key=lambda row: str(row[0]))
    assert [(c["supplier_org_id"], c["lines"][0].quantity, c["lines"][0].unit_price) for c in calls] == expected
    assert {(c["source"].kind, c["delivery_site_id"], c["currency"]) for c in calls} == {
        ("rfq_award", market.plant_id, "CNY")}
    assert sorted(a.reference or "" for a in awards) == sorted(f"order:{c['order_id']}" for c in calls)
    # and the winners and the loser are told
    await as_owner(session)
    events = (await session.execute(select(OutboxEvent.topic, OutboxEvent.payload).where(
        OutboxEvent.topic.in_(["rfq.awarded", "rfq.lost"])))).all()
    assert sorted((topic, payload["supplier_org_id"]) for topic, payload in events) == sorted([
        ("rfq.awarded", str(first.org.id)), ("rfq.awarded", str(second.org.id)), ("rfq.lost", str(third.org.id))])


async def test_an_award_places_real_draft_orders_through_the_orders_module(session: AsyncSession) -> None:
    # given two suppliers quoting one line
    market = await make_market(session)
    await act_as(session, market.buyer)
    body = rfq_body(market, supplier_org_ids=[str(s.org.id) for s in market.suppliers[:2]])
    view = await create_rfq(session, actor=owner_actor(market.buyer), fields=RfqCreate.model_validate(body))
    rfq_id = view.rfq.id
    rfq = {"id": str(rfq_id), "lines": [{"id": str(line.id)} for line in view.lines]}
    winner = market.suppliers[0]
    await act_as(session, winner)
    quotation = await submit_quotation(session, actor=owner_actor(winner), rfq_id=rfq_id,
                                       fields=QuotationIn.model_validate(quotation_body(rfq, price="9.50")))
    quotation_line_id = str(quotation.lines[0].id)
    await close_bidding(session, rfq_id)
    # when the buyer awards the whole line to it, with the wired orders module as the placer
    await act_as(session, market.buyer)
    (award,) = await award_rfq(session, actor=owner_actor(market.buyer), rfq_id=rfq_id, expected_version=1,
                               placer=OrdersPlacer(), fields=AwardIn.model_validate({"outcome": "order", "lines": [
                                   {"quotation_line_id": quotation_line_id, "quantity": "5000"}]}))
    # then a draft purchase order from the award exists for the buyer, at the quoted price
    order = (await session.scalars(select(PurchaseOrder))).one()
    assert award.reference == f"order:{order.id}"
    assert (order.status, order.source, order.supplier_org_id) == ("draft", "award", winner.org.id)
    line = (await session.scalars(select(OrderLine))).one()
    assert (line.quantity, line.unit_price) == (Decimal(5000), Decimal("0.095"))
