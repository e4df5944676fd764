"""The demo world gives Ningbo Precision Fasteners a visible rating: reviews of ecm's finished orders on top of
the seeded confirmations, receipt and invoices; a rerun adds nothing."""

from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.seed import seed_logistics
from commerce.orders.seed import seed_orders
from commerce.settlement.seed import seed_settlement
from commerce.supplier_performance import service
from commerce.supplier_performance.models import SupplierReview
from commerce.supplier_performance.seed import seed_reviews
from tradeloom.audit import Actor
from tradeloom.db import apply_tenant, utcnow
from tradeloom.seed import seed_world


async def test_demo_ratings(session: AsyncSession) -> None:
    # given the demo world with its orders, shipments and invoices
    world = await seed_world(session)
    await seed_orders(session, world)
    await seed_logistics(session, world)
    await seed_settlement(session, world)
    # when the reviews are seeded twice
    assert await seed_reviews(session, world) == 2
    assert await seed_reviews(session, world) == 0
    await session.execute(text("RESET ROLE"))
    # then ecm reviewed its two finished orders, and nbpf's scorecard has a history
    assert sorted((await session.scalars(select(SupplierReview.stars))).all()) == [4, 5]
    assert await session.scalar(select(func.count()).select_from(SupplierReview)) == 2
    buyer = Actor(org_id=world.organizations["ecm"], user_id=world.users["ecm.buyer"])
    await apply_tenant(session, org_id=buyer.org_id, user_id=buyer.user_id)
    card = await service.scorecard(session, actor=buyer, supplier_org_id=world.organizations["nbpf"],
                                   as_of=utcnow().date())
    assert card.own is not None and card.own.has_history
    assert card.own.average_review_stars == Decimal("4.5")
    measured = {m.name: m.observations for m in card.own.metrics}
    assert measured["on_time"] == 1 and measured["invoice_accuracy"] == 2 and measured["reviews"] == 2
