"""The orders module behind ``commerce.order_port.OrderPlacer``: RFQ awards and call-offs become orders.

Lines arrive at agreed prices; they are ordered at the standard VAT rate on goods (13 %), which the
buyer can change on the draft before submitting it. A free-text RFQ line has no material to order, so an
award containing one is refused (award it to a contract instead).
"""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from commerce import order_port
from commerce.orders.models import PurchaseOrder
from commerce.orders.rules import OrderSource, TaxRate
from commerce.orders.service.create import OrderLineDraft, create_order
from tradeloom.audit import Actor
from tradeloom.errors import Invalid

_SOURCES = {"rfq_award": OrderSource.AWARD, "call_off": OrderSource.CALL_OFF}


class OrdersPlacer:
    """Creates draft purchase orders for the buyer to submit."""

    async def create_order(
        self, session: AsyncSession, *, actor: Actor, supplier_org_id: uuid.UUID, delivery_site_id: uuid.UUID,
        currency: str, lines: list[order_port.OrderLineDraft], source: order_port.OrderSource, reference: str,
    ) -> PurchaseOrder:
        return await create_order(
            session, actor=actor, supplier_org_id=supplier_org_id, delivery_site_id=delivery_site_id,
            currency=currency, lines=[_draft(index, line, source) for index, line in enumerate(lines)],
            source=_SOURCES[source.kind], reference=reference,
        )


def _draft(index: int, line: order_port.OrderLineDraft, source: order_port.OrderSource) -> OrderLineDraft:
    if line.material_id is None:
        raise Invalid(f"Line {index + 1} ({line.description}) names no catalogue material and cannot be ordered; "
                      "award it to a contract instead.", code="order_line_without_material",
                      errors=[{"pointer": f"/lines/{index}", "detail": "no material"}])
    return OrderLineDraft(material_id=line.material_id, quantity=line.quantity, unit=line.unit,
                          unit_price=line.unit_price, tax_rate=TaxRate.STANDARD, requested_date=line.required_date,
                          price_rule=source.kind, price_reference=f"{source.kind}:{source.id}")
