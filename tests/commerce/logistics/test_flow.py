"""The trade's logistics path through the services: stock in, reserve, pack, dispatch, receive."""

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.models import GoodsReceiptLine, ShipmentItem, StockBalance
from commerce.logistics.receipts import received_quantities, shipped_quantities
from commerce.logistics.service import receiving, reservations, stock
from commerce.logistics.service.receiving import ReceiptDraft, ReceiptLineDraft
from commerce.logistics.service.shipments import PackageDraft
from commerce.orders.models import PurchaseOrder
from commerce.orders.service.common import order_lines
from ledger.epcis.models import StoredEpcisEvent
from ledger.models import EvidenceRecord
from tests.logistics_factories import (
    TRACE,
    confirmed_order,
    dispatched,
    make_logistics_world,
    one_batch,
    stock_up,
)
from tests.materials_factories import act_as, as_owner, owner_actor
from tradeloom.outbox.models import OutboxEvent


async def test_reserve_pack_dispatch_and_receive_in_two_shipments(session: AsyncSession) -> None:
    # given 500 bolts on the shelf and a confirmed order for 300
    world = await make_logistics_world(session)
    await stock_up(session, world)
    order = await confirmed_order(session, world)
    (line,) = await order_lines(session, order.id)
    supplier, buyer = world.orders.supplier, world.orders.buyer
    await act_as(session, supplier)
    (reservation,) = await reservations.reserve_order(session, actor=owner_actor(supplier), order_id=order.id,
                                                      warehouse_id=world.supplier_store.warehouse_id)
    assert (reservation.quantity, reservation.backordered) == (Decimal(300), Decimal(0))
    # when 100 are shipped in a parcel on a pallet, then the other 200
    first = await dispatched(session, world, order.id, one_batch(world, line.id, "100", package="P01"),
                             packages=(PackageDraft("PAL1", "pallet"), PackageDraft("P01", parent="PAL1",
                                                                                    gross_weight_kg=Decimal("12.5"))))
    assert await _status(session, order) == "partially_shipped"
    second = await dispatched(session, world, order.id, one_batch(world, line.id, "200"))
    # then the order is shipped, 200 stay on the shelf and nothing is reserved
    assert await _status(session, order) == "shipped"
    balance = (await session.scalars(select(StockBalance))).one()
    assert (balance.on_hand, balance.reserved) == (Decimal(200), Decimal(0))
    assert await stock.check_levels(session) == []
    assert await shipped_quantities(session, order_line_ids=[line.id]) == {line.id: Decimal(300)}
    items = list(await session.scalars(select(ShipmentItem).where(ShipmentItem.shipment_id == first.id)))
    assert [item.identifier_handle for item in items] == [f"88.118.8866/{first.number}/001"]
    # when the buyer receives the first (90 accepted, 10 rejected) and the second as shipped
    await as_owner(session)
    await act_as(session, buyer)
    first_line = (await session.scalars(select(ShipmentItem.shipment_line_id)
                                        .where(ShipmentItem.shipment_id == first.id))).one()
    receipt = await receiving.receive_shipment(session, actor=owner_actor(buyer), where=TRACE, draft=ReceiptDraft(
        shipment_id=first.id, location_id=world.buyer_store.location_id, inspection="partial", lines=[
            ReceiptLineDraft(first_line, Decimal(90), Decimal(10), "B-0001", "thread damaged")]))
    await receiving.receive_shipment(session, actor=owner_actor(buyer), where=TRACE, draft=ReceiptDraft(
        shipment_id=second.id, location_id=world.buyer_store.location_id))
    # then the buyer's stock has 290, the order is received, settlement's query says 290 accepted
    assert await _status(session, order) == "received"
    assert await received_quantities(session, order_line_ids=[line.id]) == {line.id: Decimal(290)}
    assert (await session.scalar(select(StockBalance.on_hand))) == Decimal(290)
    (receipt_line,) = await session.scalars(select(GoodsReceiptLine).where(GoodsReceiptLine.receipt_id == receipt.id))
    assert (receipt_line.accepted, receipt_line.rejected) == (Decimal(90), Decimal(10))
    await as_owner(session)
    topics = list(await session.scalars(select(OutboxEvent.topic).order_by(OutboxEvent.id)))
    assert topics.count("goods.received") == 2 and topics.count("shipment.dispatched") == 2
    steps = list(await session.scalars(select(StoredEpcisEvent.biz_step).order_by(StoredEpcisEvent.event_time)))
    assert steps.count("packing") == 2 and steps.count("shipping") == 2 and steps.count("receiving") == 2
    evidence = list(await session.scalars(select(EvidenceRecord.kind)))
    assert evidence.count("shipment.dispatched") == 2 and evidence.count("goods.received") == 2


async def _status(session: AsyncSession, order: PurchaseOrder) -> str:
    await session.refresh(order)
    return order.status
