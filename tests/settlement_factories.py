"""Factories for settlement: a confirmed order (10 boxes at 100.00 CNY, 13 % VAT: 1,130.00 gross), goods
receipts written as the owner (the logistics receipt flow is that package's to test), and invoices issued
through the settlement service as the supplier."""

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.models import GoodsReceipt, GoodsReceiptLine, Shipment, ShipmentLine
from commerce.orders.models import OrderLine, PurchaseOrder
from commerce.orders.service.common import order_lines
from commerce.settlement.invoice_models import Invoice
from commerce.settlement.invoices import FapiaoDraft, InvoiceLineDraft, issue_invoice
from commerce.settlement.rules import FapiaoType, TaxRate
from tests.logistics_factories import LogisticsWorld, confirmed_order, make_logistics_world
from tests.materials_factories import act_as, as_owner, owner_actor
from tests.orders_factories import award_line

__all__ = ["LogisticsWorld", "make_logistics_world"]


async def settlement_order(session: AsyncSession, world: LogisticsWorld) -> tuple[PurchaseOrder, OrderLine]:
    order = await confirmed_order(session, world, award_line(world.orders, "10", "100.00"))
    return order, (await order_lines(session, order.id))[0]


async def receive(session: AsyncSession, world: LogisticsWorld, order: PurchaseOrder, line: OrderLine,
                  accepted: str) -> None:
    """A shipment of ``accepted`` units of the line, received and accepted by the buyer (as owner)."""
    await as_owner(session)
    parties = {"buyer_org_id": order.buyer_org_id, "supplier_org_id": order.supplier_org_id}
    number = uuid.uuid4().hex[:10].upper()
    shipment = Shipment(number=f"SH-{number}", order_id=order.id, warehouse_id=world.supplier_store.warehouse_id,
                        status="received", **parties)
    session.add(shipment)
    await session.flush()
    shipment_line = ShipmentLine(shipment_id=shipment.id, line_no=1, order_line_id=line.id,
                                 material_id=line.material_id, material_code=line.material_code,
                                 quantity=Decimal(accepted), unit=line.unit, **parties)
    receipt = GoodsReceipt(number=f"GR-{number}", shipment_id=shipment.id, order_id=order.id,
                           warehouse_id=world.buyer_store.warehouse_id, location_id=world.buyer_store.location_id,
                           inspection="passed", **parties)
    session.add_all([shipment_line, receipt])
    await session.flush()
    session.add(GoodsReceiptLine(receipt_id=receipt.id, shipment_line_id=shipment_line.id, order_line_id=line.id,
                                 material_id=line.material_id, accepted=Decimal(accepted), rejected=Decimal(0),
                                 unit=line.unit, **parties))
    await session.flush()


def fapiao(number: str | None = None) -> FapiaoDraft:
    return FapiaoDraft(FapiaoType.SPECIAL, number or uuid.uuid4().hex[:8], dt.date(2026, 11, 20))


async def invoice(session: AsyncSession, world: LogisticsWorld, order: PurchaseOrder, line: OrderLine, *,
                  quantity: str = "10", unit_price: str = "100.00", tax_rate: TaxRate = TaxRate.STANDARD,
                  number: str | None = None) -> Invoice:
    """The supplier invoices the order line (session left as the supplier's tenant)."""
    await act_as(session, world.orders.supplier)
    return await issue_invoice(session, actor=owner_actor(world.orders.supplier), fapiao=fapiao(number), lines=[
        InvoiceLineDraft(order.id, line.id, Decimal(quantity), Decimal(unit_price), tax_rate)])
