"""Expiry reminders: a daily ``tradeloom worker`` loop announces approved documents that run out
(``supplier.qualification.expiring`` 30 and 7 days before, once each) and those that ran out
(``supplier.qualification.expired``, once), to the buyer and to the supplier, through the outbox (webhooks).

Idempotent: each announcement is marked on the row in the same transaction as its outbox event, and rows are
taken ``FOR UPDATE SKIP LOCKED``, so two workers or a re-run never announce one twice. A renewed document
(new ``valid_until``) has its marks cleared by whoever renews it and is announced afresh.
"""

import asyncio
import datetime as dt
import logging
import threading

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.qualifications.models import SupplierQualification
from commerce.qualifications.rules import REMINDER_DAYS, QualificationStatus, due_reminder
from commerce.qualifications.service import facts
from tradeloom.db import make_engine, make_sessionmaker, utcnow
from tradeloom.jobs import require_url
from tradeloom.outbox.service import emit
from tradeloom.settings import get_settings

log = logging.getLogger(__name__)
EXPIRING = "supplier.qualification.expiring"
EXPIRED = "supplier.qualification.expired"
CHECK_INTERVAL_SECONDS = 24 * 3600
BATCH = 500


async def _announce(session: AsyncSession, qualification: SupplierQualification, topic: str,
                    extra: dict[str, int]) -> None:
    payload = facts(qualification) | extra
    for org_id in (qualification.org_id, qualification.supplier_org_id):
        await emit(session, org_id=org_id, topic=topic, payload=payload)


async def send_reminders(session: AsyncSession, *, today: dt.date) -> int:
    """Announce what is due today across all organizations (as the owner); returns how many events."""
    row = SupplierQualification
    in_days = {days: today + dt.timedelta(days=days) for days in REMINDER_DAYS}
    candidates = await session.scalars(select(row).where(
        row.status == QualificationStatus.APPROVED.value,
        or_(and_(row.valid_until < today, row.expired_at.is_(None)),
            and_(row.valid_until >= today, row.valid_until <= in_days[30], row.reminded_30_at.is_(None)),
            and_(row.valid_until >= today, row.valid_until <= in_days[7], row.reminded_7_at.is_(None))),
    ).order_by(SupplierQualification.valid_until).limit(BATCH).with_for_update(skip_locked=True))
    announced, now = 0, utcnow()
    for qualification in candidates.all():
        if qualification.valid_until < today:
            if qualification.expired_at is None:
                qualification.expired_at = now
                await _announce(session, qualification, EXPIRED, {})
                announced += 1
            continue
        sent = {30: qualification.reminded_30_at is not None, 7: qualification.reminded_7_at is not None}
        days = due_reminder(qualification.valid_until, today, sent)
        if days is None:
            continue
        qualification.reminded_30_at = qualification.reminded_30_at or now  # a 7-day one stands for both
        if days == 7:
            qualification.reminded_7_at = now
        await _announce(session, qualification, EXPIRING,
                        {"days_before": days, "days_left": (qualification.valid_until - today).days})
        announced += 1
    await session.flush()
    return announced


async def check_once(today: dt.date | None = None) -> int:
    engine = make_engine(require_url(get_settings().database_url, "DATABASE_URL"), pool_size=1, max_overflow=0)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            return await send_reminders(session, today=today or dt.date.today())
    finally:
        await engine.dispose()


def run_expiry_check(stop: threading.Event | None = None, interval: float = CHECK_INTERVAL_SECONDS,
                     first_delay: float = 60.0) -> None:
    """Check a minute after start, then every ``interval`` seconds, until ``stop`` is set (a worker loop)."""
    stop = stop or threading.Event()
    delay = first_delay
    while not stop.wait(delay):
        delay = interval
        try:
            log.info("qualifications: expiry announcements", extra={"count": asyncio.run(check_once())})
        except Exception:
            log.exception("qualifications: expiry check failed")
