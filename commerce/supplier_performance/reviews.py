"""Buyer reviews: 1–5 stars with a comment, one per received or closed order, by the order's buyer only."""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.orders.models import PurchaseOrder
from commerce.orders.rules import OrderStatus
from commerce.orders.service.queries import OrderFilter, get_order, list_orders
from commerce.supplier_performance.models import SupplierReview
from tradeloom.audit import Actor, record_audit
from tradeloom.db import flush_or_conflict
from tradeloom.errors import Conflict, Forbidden
from tradeloom.outbox.service import emit

REVIEWABLE = ("received", "closed")
REVIEWED = "supplier.reviewed"


async def post_review(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, stars: int, comment: str
                      ) -> SupplierReview:
    """The buyer rates the supplier of one of its finished orders (a second review of the order is a 409)."""
    order = await get_order(session, order_id=order_id)
    if order.buyer_org_id != actor.org_id:
        raise Forbidden("Only the buyer of the order may review its supplier.", code="review.not_buyer")
    if order.status not in REVIEWABLE:
        raise Conflict(f"Order {order.number} can be reviewed once it is received or closed.",
                       code="review.order_not_finished")
    if await review_of(session, order_id=order.id) is not None:
        raise Conflict(f"Order {order.number} has been reviewed already.", code="review.exists")
    review = SupplierReview(order_id=order.id, buyer_org_id=order.buyer_org_id, supplier_org_id=order.supplier_org_id,
                            stars=stars, comment=comment.strip(), author_user_id=actor.user_id)
    session.add(review)
    # two reviews racing past the check above: the unique order_id makes the second a 409 too
    await flush_or_conflict(session, f"Order {order.number} has been reviewed already.", "review.exists")
    await emit(session, org_id=actor.org_id, topic=REVIEWED, payload={
        "review_id": str(review.id), "order_id": str(order.id), "supplier_org_id": str(order.supplier_org_id),
        "buyer_org_id": str(order.buyer_org_id), "stars": stars})
    await record_audit(session, actor=actor, action=REVIEWED, object_type="supplier_review", object_id=review.id)
    return review


async def review_of(session: AsyncSession, *, order_id: uuid.UUID) -> SupplierReview | None:
    """The review of an order, if its parties may see it."""
    return await session.scalar(select(SupplierReview).where(SupplierReview.order_id == order_id))


async def reviewable_orders(session: AsyncSession, *, actor: Actor, supplier_org_id: uuid.UUID, limit: int = 50
                            ) -> list[PurchaseOrder]:
    """The buyer's received or closed orders with this supplier that it has not reviewed yet, newest first."""
    found: list[PurchaseOrder] = []
    for status in REVIEWABLE:
        filters = OrderFilter(status=OrderStatus(status), buyer_org_id=actor.org_id, supplier_org_id=supplier_org_id)
        orders, _ = await list_orders(session, filters=filters, limit=limit, cursor=None)
        found.extend(orders)
    reviewed = set(await session.scalars(select(SupplierReview.order_id).where(
        SupplierReview.order_id.in_([order.id for order in found]))))
    return sorted((order for order in found if order.id not in reviewed), key=lambda order: order.created_at,
                  reverse=True)
