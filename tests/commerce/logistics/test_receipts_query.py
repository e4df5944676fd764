"""The public per-line query settlement uses: shipped and accepted-received quantities of order lines."""

import uuid
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.models import GoodsReceipt, GoodsReceiptLine, Shipment, ShipmentLine
from commerce.logistics.receipts import received_quantities, shipped_quantities
from commerce.orders.models import OrderLine, PurchaseOrder
from commerce.orders.service.common import order_lines
from tests.logistics_factories import LogisticsWorld, confirmed_order, make_logistics_world
from tests.materials_factories import act_as, as_owner


async def _shipment(session: AsyncSession, world: LogisticsWorld, order: PurchaseOrder, line: OrderLine, *,
                    status: str, quantity: str) -> ShipmentLine:
    """A shipment row of one line, written as the owner (the shipping service is tested elsewhere)."""
    parties = {"buyer_org_id": order.buyer_org_id, "supplier_org_id": order.supplier_org_id}
    shipment = Shipment(number=f"SH-{uuid.uuid4().hex[:8]}", order_id=order.id,
                        warehouse_id=world.supplier_store.warehouse_id, status=status, **parties)
    session.add(shipment)
    await session.flush()
    shipment_line = ShipmentLine(shipment_id=shipment.id, line_no=1, order_line_id=line.id,
                                 material_id=line.material_id, material_code=line.material_code,
                                 quantity=Decimal(quantity), unit=line.unit, **parties)
    session.add(shipment_line)
    await session.flush()
    return shipment_line


async def test_sums_dispatched_shipments_and_accepted_receipts_per_line(session: AsyncSession) -> None:
    # given an order line of 300 pieces: 100 dispatched and received (90 accepted, 10 rejected),
    # 50 more dispatched, and a draft shipment of 150 that has not left
    world = await make_logistics_world(session)
    order = await confirmed_order(session, world)
    (line,) = await order_lines(session, order.id)
    received_line = await _shipment(session, world, order, line, status="received", quantity="100")
    await _shipment(session, world, order, line, status="dispatched", quantity="50")
    await _shipment(session, world, order, line, status="draft", quantity="150")
    parties = {"buyer_org_id": order.buyer_org_id, "supplier_org_id": order.supplier_org_id}
    receipt = GoodsReceipt(number="GR-1", shipment_id=received_line.shipment_id, order_id=order.id,
                           warehouse_id=world.buyer_store.warehouse_id, location_id=world.buyer_store.location_id,
                           inspection="partial", **parties)
    session.add(receipt)
    await session.flush()
    session.add(GoodsReceiptLine(receipt_id=receipt.id, shipment_line_id=received_line.id, order_line_id=line.id,
                                 material_id=line.material_id, accepted=Decimal(90), rejected=Decimal(10),
                                 unit=line.unit, **parties))
    await session.flush()
    unknown = uuid.uuid4()
    # when the buyer asks
    await act_as(session, world.orders.buyer)
    received = await received_quantities(session, order_line_ids=[line.id, unknown])
    shipped = await shipped_quantities(session, order_line_ids=[line.id, unknown])
    # then
    assert received == {line.id: Decimal(90), unknown: Decimal(0)}
    assert shipped == {line.id: Decimal(150), unknown: Decimal(0)}
    # and another supplier sees nothing of it
    await as_owner(session)
    await act_as(session, world.orders.other_supplier)
    assert await received_quantities(session, order_line_ids=[line.id]) == {line.id: Decimal(0)}
    assert await shipped_quantities(session, order_line_ids=[line.id]) == {line.id: Decimal(0)}
