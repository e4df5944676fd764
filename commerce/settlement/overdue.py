"""Due dates enforced: a worker loop marks invoices past their due date with something still outstanding, and
milestone payment requests still open after their due date, and announces each once (``invoice.overdue``,
``payment_request.overdue``, to the supplier's and the buyer's subscribers).

Runs as the database owner across all organizations (a platform loop, like the reservation expiry); the
outstanding amount is read from the supplier's books, as the supplier would see it.
"""

import asyncio
import datetime as dt
import logging
import threading

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement import milestones, postings
from commerce.settlement.invoice_models import Invoice
from commerce.settlement.rules import InvoiceKind, InvoiceStatus, is_overdue
from tradeloom.db import make_engine, make_sessionmaker
from tradeloom.jobs import require_url
from tradeloom.outbox.service import emit
from tradeloom.settings import get_settings

log = logging.getLogger(__name__)
CHECK_INTERVAL_SECONDS = 3600
BATCH = 500


async def mark_overdue(session: AsyncSession, *, today: dt.date) -> int:
    """Mark and announce the standing invoices that fell overdue (due before ``today``, not yet marked,
    something outstanding); returns how many. Idempotent: a marked invoice is never announced again."""
    candidates = await session.scalars(
        select(Invoice).where(Invoice.kind == InvoiceKind.INVOICE.value, Invoice.overdue_since.is_(None),
                              Invoice.status != InvoiceStatus.REJECTED.value, Invoice.due_date < today)
        .order_by(Invoice.due_date).limit(BATCH).with_for_update(skip_locked=True))
    marked = 0
    for invoice in candidates.all():
        outstanding = await postings.outstanding(session, invoice, viewer_org_id=invoice.supplier_org_id)
        if not is_overdue(invoice.due_date, outstanding, today):
            continue
        invoice.overdue_since = today
        facts = {"invoice_id": str(invoice.id), "fapiao_number": invoice.fapiao_number,
                 "supplier_org_id": str(invoice.supplier_org_id), "buyer_org_id": str(invoice.buyer_org_id),
                 "currency": invoice.currency, "outstanding": f"{outstanding:f}",
                 "due_date": invoice.due_date.isoformat()}
        for org_id in (invoice.supplier_org_id, invoice.buyer_org_id):
            await emit(session, org_id=org_id, topic="invoice.overdue", payload=facts)
        marked += 1
    for request in await milestones.mark_overdue(session, today=today):  # milestone shares not paid on their day
        for org_id in (request.supplier_org_id, request.buyer_org_id):
            await emit(session, org_id=org_id, topic="payment_request.overdue",
                       payload=milestones.request_facts(request))
        marked += 1
    await session.flush()
    return marked


async def check_once(today: dt.date | None = None) -> int:
    engine = make_engine(require_url(get_settings().database_url, "DATABASE_URL"), pool_size=1, max_overflow=0)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            return await mark_overdue(session, today=today or dt.date.today())
    finally:
        await engine.dispose()


def run_overdue_check(stop: threading.Event | None = None, interval: float = CHECK_INTERVAL_SECONDS) -> None:
    """Check every ``interval`` seconds until ``stop`` is set (a ``tradeloom worker`` loop)."""
    stop = stop or threading.Event()
    while not stop.wait(interval):
        try:
            log.info("settlement: invoices overdue", extra={"count": asyncio.run(check_once())})
        except Exception:
            log.exception("settlement: overdue check failed")
