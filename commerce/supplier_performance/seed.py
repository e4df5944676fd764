"""Demo reviews: East China Heavy Machinery (ecm) rates Ningbo Precision Fasteners (nbpf) on its finished orders.

Run by ``tradeloom seed-demo`` after the orders, logistics, RFQ and settlement seeds, whose confirmations,
goods receipt (29 of 30 boxes accepted), invitations and invoices are the rest of nbpf's scorecard facts.
Idempotent: an order reviewed already is skipped. Goes through ``reviews.post_review`` as ecm's buyer.
"""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.supplier_performance import reviews
from tradeloom.audit import Actor
from tradeloom.db import apply_tenant
from tradeloom.seed import DemoWorld

_RATINGS = ((5, "准时交货，包装完好 / on time, well packed"), (4, "一箱有锈蚀，处理及时 / one rusty box, handled fast"))


async def seed_reviews(session: AsyncSession, world: DemoWorld) -> int:
    """Reviews for ecm's received and closed nbpf orders; returns how many were written."""
    buyer = Actor(org_id=world.organizations["ecm"], user_id=world.users["ecm.buyer"])
    await apply_tenant(session, org_id=buyer.org_id, user_id=buyer.user_id)
    orders = await reviews.reviewable_orders(session, actor=buyer, supplier_org_id=world.organizations["nbpf"])
    for order, (stars, comment) in zip(orders, _RATINGS, strict=False):
        await reviews.post_review(session, actor=buyer, order_id=order.id, stars=stars, comment=comment)
    await session.execute(text("RESET ROLE"))
    return min(len(orders), len(_RATINGS))
