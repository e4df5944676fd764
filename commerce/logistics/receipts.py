"""What has been shipped and received per purchase-order line: the public query other packages use
(settlement's three-way match of order, goods receipt and invoice).

Both functions answer for every line asked (zero when nothing was shipped or received yet) and see only what
the caller's organization may see (row-level security: the buyer and the supplier of the order).
"""

import uuid
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.models import GoodsReceiptLine, Shipment, ShipmentLine

# Shipments that have left the supplier's warehouse (a draft or cancelled shipment has shipped nothing).
SHIPPED_STATUSES = ("dispatched", "delivered", "received")


async def received_quantities(
    session: AsyncSession, *, order_line_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Decimal]:
    """Accepted quantity received per purchase-order line, in the order line's unit (rejected goods excluded)."""
    ids = list(order_line_ids)
    query = (select(GoodsReceiptLine.order_line_id, func.sum(GoodsReceiptLine.accepted))
             .where(GoodsReceiptLine.order_line_id.in_(ids)).group_by(GoodsReceiptLine.order_line_id))
    return _per_line(ids, (await session.execute(query)).all())


async def shipped_quantities(
    session: AsyncSession, *, order_line_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Decimal]:
    """Quantity dispatched per purchase-order line (shipments dispatched, delivered or received)."""
    ids = list(order_line_ids)
    query = (select(ShipmentLine.order_line_id, func.sum(ShipmentLine.quantity))
             .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
             .where(ShipmentLine.order_line_id.in_(ids), Shipment.status.in_(SHIPPED_STATUSES))
             .group_by(ShipmentLine.order_line_id))
    return _per_line(ids, (await session.execute(query)).all())


def _per_line(ids: list[uuid.UUID], sums: Iterable[Row[uuid.UUID, Decimal]]) -> dict[uuid.UUID, Decimal]:
    found = {line_id: total for line_id, total in sums}
    return {line_id: found.get(line_id, Decimal(0)) for line_id in ids}
