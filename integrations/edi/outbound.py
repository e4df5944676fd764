"""What we send a partner when an order it placed by EDI moves on: ORDRSP when the supplier confirms,
DESADV when it is shipped, INVOIC when it is received.

Until the logistics module publishes shipments and settlement publishes invoices, DESADV and INVOIC are
written from the order itself (the whole confirmed quantity, the order's own amounts); see docs/edi.md.
Sending is idempotent per order and message type: an outbox event delivered twice sends one interchange.
"""

import datetime as dt
import uuid
from collections.abc import Callable

from pydifact.segments import Segment
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.service.materials import materials_by_id
from commerce.orders.service.queries import order_detail
from integrations.edi.messages_out import LineFacts, OrderFacts, despatch_advice, invoice, order_response
from integrations.edi.models import EdiInterchange, EdiOrder
from integrations.edi.service import get_partner, send_interchange
from tradeloom.db import utcnow
from tradeloom.identity.service import get_organization

Builder = Callable[[OrderFacts, dt.date], list[Segment]]
MESSAGE_FOR_TOPIC: dict[str, tuple[str, Builder]] = {
    "order.confirmed": ("ORDRSP", order_response),
    "order.shipped": ("DESADV", despatch_advice),
    "order.received": ("INVOIC", invoice),
}


async def order_facts(session: AsyncSession, *, order_id: uuid.UUID, partner_order_number: str) -> OrderFacts:
    """The order as the outbound builders take it."""
    detail = await order_detail(session, order_id=order_id)
    order = detail.order
    materials = await materials_by_id(session, material_ids=[line.material_id for line in detail.lines])
    buyer = await get_organization(session, order.buyer_org_id)
    supplier = await get_organization(session, order.supplier_org_id)
    lines = tuple(LineFacts(
        line_no=line.line_no, material_code=line.material_code, gtin=materials[line.material_id].gtin,
        quantity=line.quantity, unit=line.unit, unit_price=line.unit_price, tax_rate=line.tax_rate, net=line.net,
        tax=line.tax, confirmed_quantity=line.confirmed_quantity, confirmed_date=line.confirmed_date,
    ) for line in detail.lines)
    return OrderFacts(number=order.number, partner_order_number=partner_order_number, status=order.status,
                      currency=order.currency, net_total=order.net_total, tax_total=order.tax_total,
                      gross_total=order.gross_total, buyer_uscc=buyer.uscc, supplier_uscc=supplier.uscc, lines=lines)


async def send_for_order_event(session: AsyncSession, *, topic: str,
                               order_id: uuid.UUID) -> EdiInterchange | None:
    """The interchange this order event sends to the partner that placed the order, if any (None otherwise)."""
    if topic not in MESSAGE_FOR_TOPIC:
        return None
    link = await session.scalar(select(EdiOrder).where(EdiOrder.purchase_order_id == order_id))
    if link is None:
        return None
    kind, build = MESSAGE_FOR_TOPIC[topic]
    partner = await get_partner(session, partner_id=link.partner_id)
    if not partner.is_active or kind not in partner.messages:
        return None
    sent = await session.scalar(select(EdiInterchange).where(
        EdiInterchange.source_order_id == order_id, EdiInterchange.message_types.contains([kind])))
    if sent is not None:
        return sent
    facts = await order_facts(session, order_id=order_id, partner_order_number=link.document_number)
    return await send_interchange(session, partner=partner, messages=[(kind, build(facts, utcnow().date()))],
                                  source_order_id=order_id, detail=f"{kind} for order {facts.number}")
