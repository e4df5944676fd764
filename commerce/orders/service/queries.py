"""Reading orders: one with its lines and timeline, filtered lists, the approval queue, the supplier inbox.

RLS already limits every query to orders the caller's organization is a party to."""

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.orders.models import FxRate, OrderApproval, OrderEvent, OrderLine, PurchaseOrder
from commerce.orders.rules import OrderStatus
from commerce.orders.service.common import load_order, order_lines
from tradeloom.audit import Actor
from tradeloom.errors import Invalid
from tradeloom.pagination import decode_cursor, encode_cursor


@dataclass(frozen=True)
class OrderDetail:
    order: PurchaseOrder
    lines: list[OrderLine]
    timeline: list[OrderEvent]


@dataclass(frozen=True)
class OrderFilter:
    status: OrderStatus | None = None
    supplier_org_id: uuid.UUID | None = None
    buyer_org_id: uuid.UUID | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None


async def get_order(session: AsyncSession, *, order_id: uuid.UUID) -> PurchaseOrder:
    """The order, if the caller's organization is its buyer or supplier (404 otherwise)."""
    return await load_order(session, order_id)


async def order_detail(session: AsyncSession, *, order_id: uuid.UUID) -> OrderDetail:
    """The order with its lines and every event of its timeline, oldest first (three queries)."""
    order = await load_order(session, order_id)
    timeline = await session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id))
    return OrderDetail(order, await order_lines(session, order_id), list(timeline.all()))


def _filtered(query: Select[Any], filters: OrderFilter) -> Select[Any]:
    if filters.status:
        query = query.where(PurchaseOrder.status == filters.status.value)
    if filters.supplier_org_id:
        query = query.where(PurchaseOrder.supplier_org_id == filters.supplier_org_id)
    if filters.buyer_org_id:
        query = query.where(PurchaseOrder.buyer_org_id == filters.buyer_org_id)
    if filters.created_from:
        query = query.where(PurchaseOrder.created_at >= dt.datetime.combine(filters.created_from, dt.time(), dt.UTC))
    if filters.created_to:
        end = dt.datetime.combine(filters.created_to + dt.timedelta(days=1), dt.time(), dt.UTC)
        query = query.where(PurchaseOrder.created_at < end)
    return query


async def list_orders(
    session: AsyncSession, *, filters: OrderFilter, limit: int, cursor: str | None
) -> tuple[list[PurchaseOrder], str | None]:
    """Newest first, one keyset page at a time (cursor: creation time and id of the last order seen)."""
    query = _filtered(select(PurchaseOrder), filters).order_by(
        PurchaseOrder.created_at.desc(), PurchaseOrder.id.desc()).limit(limit + 1)
    if cursor:
        created_text, id_text = decode_cursor(cursor, arity=2)
        try:
            created_at, last_id = dt.datetime.fromisoformat(str(created_text)), uuid.UUID(str(id_text))
        except ValueError as exc:
            raise Invalid("The cursor is not one this API returned.", code="cursor_invalid") from exc
        query = query.where(or_(PurchaseOrder.created_at < created_at,
                                and_(PurchaseOrder.created_at == created_at, PurchaseOrder.id < last_id)))
    orders: list[PurchaseOrder] = list((await session.scalars(query)).all())
    last = orders[limit - 1] if len(orders) > limit else None
    return orders[:limit], encode_cursor(last.created_at.isoformat(), str(last.id)) if last else None


async def approval_queue(session: AsyncSession, *, actor: Actor, limit: int = 100) -> list[PurchaseOrder]:
    """Submitted orders of the actor's organization that this approver may still approve (not their own)."""
    already = select(OrderApproval.order_id).where(OrderApproval.approver_user_id == actor.user_id)
    query = (select(PurchaseOrder)
             .where(PurchaseOrder.buyer_org_id == actor.org_id,
                    PurchaseOrder.status == OrderStatus.SUBMITTED.value,
                    PurchaseOrder.created_by_user_id.is_distinct_from(actor.user_id),
                    PurchaseOrder.id.not_in(already))
             .order_by(PurchaseOrder.created_at).limit(limit))
    return list((await session.scalars(query)).all())


async def supplier_inbox(session: AsyncSession, *, actor: Actor, limit: int = 100) -> list[PurchaseOrder]:
    """Orders sent to the actor's organization and waiting for its confirmation, oldest first."""
    query = (select(PurchaseOrder)
             .where(PurchaseOrder.supplier_org_id == actor.org_id, PurchaseOrder.status == OrderStatus.SENT.value)
             .order_by(PurchaseOrder.created_at).limit(limit))
    return list((await session.scalars(query)).all())


async def fx_rates_to_cny(session: AsyncSession) -> dict[str, Decimal]:
    """Every platform exchange rate to CNY, by currency (connectors convert ERP amounts with them)."""
    rows = await session.execute(select(FxRate.currency, FxRate.rate_to_cny))
    return {currency: rate for currency, rate in rows}
