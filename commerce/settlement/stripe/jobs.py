"""The reconciliation job: ask Stripe about every payment not yet final and apply the answer.

It closes the gap a crash leaves between Stripe's success and our commit when the webhook is late or lost:
the payment row still says "requires_capture" (or "requires_payment_method"), Stripe says "succeeded", and
``apply_intent`` posts the amount received, once. Run it from RQ (``reconcile_stripe_payments``) on a schedule.
"""

import asyncio
import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from commerce.settlement.stripe import service
from commerce.settlement.stripe.gateway import StripeGateway
from commerce.settlement.stripe.models import StripePayment
from tradeloom.db import make_engine, make_sessionmaker, tenant_transaction, utcnow
from tradeloom.jobs import require_url
from tradeloom.settings import get_settings

FINAL_STATUSES = ("succeeded", "canceled")
QUIET_PERIOD = dt.timedelta(minutes=5)  # leave payments a request is still working on alone


async def reconcile_open_payments(sessionmaker: async_sessionmaker[AsyncSession], gateway: StripeGateway, *,
                                  untouched_since: dt.datetime) -> int:
    """Apply Stripe's current state to each open payment (one tenant transaction each); returns how many."""
    async with sessionmaker() as owner:  # the platform's view across tenants: ids only
        open_payments = (await owner.execute(
            select(StripePayment.id, StripePayment.org_id, StripePayment.payment_intent_id)
            .where(StripePayment.status.not_in(FINAL_STATUSES), StripePayment.payment_intent_id.is_not(None),
                   StripePayment.updated_at < untouched_since)
        )).all()
    for payment_id, org_id, intent_id in open_payments:
        await _reconcile_one(sessionmaker, gateway, payment_id=payment_id, org_id=org_id, intent_id=str(intent_id))
    return len(open_payments)


async def _reconcile_one(sessionmaker: async_sessionmaker[AsyncSession], gateway: StripeGateway, *,
                         payment_id: uuid.UUID, org_id: uuid.UUID, intent_id: str) -> None:
    intent = await gateway.retrieve(intent_id)
    async with tenant_transaction(sessionmaker, org_id=org_id) as session:
        await service.apply_intent(session, await service.get_payment(session, payment_id), intent)


async def _run() -> int:
    settings = get_settings()
    engine = make_engine(require_url(settings.database_url, "DATABASE_URL"), pool_size=1, max_overflow=0)
    try:
        return await reconcile_open_payments(make_sessionmaker(engine), StripeGateway.from_settings(settings),
                                             untouched_since=utcnow() - QUIET_PERIOD)
    finally:
        await engine.dispose()


def reconcile_stripe_payments() -> int:
    """RQ entry point (idempotent: running it twice posts nothing twice)."""
    return asyncio.run(_run())
