"""The port through which an RFQ award or a framework call-off becomes purchase orders.

``commerce.rfq`` and ``commerce.contracts`` reach purchase orders only through ``OrderPlacer``; the
composition root sets ``app.state.order_placer`` to ``commerce.orders.placer.OrdersPlacer``. Without a placer
(an app built without the orders module) an award to orders is refused (503 ``orders_unavailable``) and a
call-off stands as the order document itself, announced by its ``call_off.placed`` event.
"""

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Protocol

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from tradeloom.audit import Actor
from tradeloom.errors import Unavailable


@dataclass(frozen=True)
class OrderLineDraft:
    """One purchase order line as the orders module takes it (mapped field by field by the adapter)."""

    material_id: uuid.UUID | None
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    required_date: dt.date | None


@dataclass(frozen=True)
class OrderSource:
    """Where an order comes from: ``kind`` is ``rfq_award`` or ``call_off``, ``id`` that document's id."""

    kind: str
    id: uuid.UUID


class PlacedOrder(Protocol):
    id: uuid.UUID


class OrderPlacer(Protocol):
    async def create_order(
        self, session: AsyncSession, *, actor: Actor, supplier_org_id: uuid.UUID, delivery_site_id: uuid.UUID,
        currency: str, lines: list[OrderLineDraft], source: OrderSource, reference: str,
    ) -> PlacedOrder: ...


def require_placer(placer: OrderPlacer | None) -> OrderPlacer:
    """The wired placer, or a clear 503 that changes nothing."""
    if placer is None:
        raise Unavailable("Purchase orders are not available on this platform yet; award to a contract instead.",
                          code="orders_unavailable")
    return placer


def order_placer(request: Request) -> OrderPlacer | None:
    """The port as wired by the composition root (``app.state.order_placer``), None until then."""
    return getattr(request.app.state, "order_placer", None)


Placer = Annotated[OrderPlacer | None, Depends(order_placer)]
