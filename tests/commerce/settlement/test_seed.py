"""The demo settlement: an accepted, half-paid invoice offered for finance with a financier's offer, an exception in
the inbox, escrow; a rerun adds nothing."""

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.orders.seed import seed_orders
from commerce.settlement.finance.models import FinanceOffer
from commerce.settlement.invoice_models import BankStatementLine, Invoice, Payment
from commerce.settlement.seed import seed_settlement
from tradeloom.seed import seed_world


async def test_demo_settlement(session: AsyncSession) -> None:
    world = await seed_world(session)
    await seed_orders(session, world)
    await seed_settlement(session, world)
    await session.execute(text("RESET ROLE"))
    await seed_settlement(session, world)
    await session.execute(text("RESET ROLE"))
    statuses = sorted((await session.scalars(select(Invoice.status))).all())
    assert statuses == ["approved", "exception"]
    kinds = sorted((p.kind, p.method) for p in (await session.scalars(select(Payment))).all())
    assert kinds == [("escrow_deposit", "escrow"), ("payment", "bank_transfer")]
    assert sorted((await session.scalars(select(BankStatementLine.status))).all()) == ["matched", "unmatched"]
    offers = (await session.scalars(select(FinanceOffer))).all()
    assert [(o.kind, o.status, o.org_id) for o in offers] == [("factoring", "offered", world.organizations["pjfin"])]
