"""Supplier scorecards: platform-wide and from the viewing buyer's own facts, the buyer's list, RFQ ratings.

Every figure comes from ``tl_supplier_performance_facts`` (monthly SQL aggregates, one call per scope), summed
into windows by ``scoring``. A buyer sees its own facts and the platform-wide score; the platform-wide metric
breakdown only when at least ``MIN_BUYERS_FOR_DETAIL`` buyers contributed (so no buyer's figures show through).
"""

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.supplier_performance import scoring
from commerce.supplier_performance.models import SupplierReview
from commerce.supplier_performance.scoring import Fact, Score
from tradeloom.audit import Actor
from tradeloom.errors import NotFound
from tradeloom.identity.models import Organization
from tradeloom.identity.service import get_organization

SUPPLIER_KINDS = ("supplier", "both")
_FACTS = text("SELECT supplier_org_id, month, metric, total, observations "
              "FROM tl_supplier_performance_facts(CAST(:suppliers AS uuid[]), CAST(:buyer AS uuid), :since)")


@dataclass(frozen=True)
class Scorecard:
    supplier_org_id: uuid.UUID
    supplier_name_zh: str
    supplier_name_en: str
    as_of: dt.date
    window_start: dt.date
    platform: Score
    platform_detail: bool  # False: only the platform score is shown, not its breakdown
    own: Score | None  # the viewing buyer's facts; None when the supplier looks at itself
    trend: list[tuple[dt.date, Decimal, Decimal | None]] = field(default_factory=list)  # month, platform, own
    reviews: list[SupplierReview] = field(default_factory=list)


async def load_facts(session: AsyncSession, *, supplier_org_ids: list[uuid.UUID] | None,
                     buyer_org_id: uuid.UUID | None, as_of: dt.date, months: int) -> list[Fact]:
    """Monthly aggregates from the first day of ``months`` months before ``as_of``'s month (one SQL call)."""
    since = dt.datetime.combine(scoring.month_start(as_of, months - 1), dt.time(), tzinfo=dt.UTC)
    rows = await session.execute(_FACTS, {"suppliers": [str(s) for s in supplier_org_ids]
                                          if supplier_org_ids is not None else None,
                                          "buyer": str(buyer_org_id) if buyer_org_id else None, "since": since})
    return [Fact(row.supplier_org_id, row.month, row.metric, Decimal(row.total or 0), row.observations)
            for row in rows]


async def ratings_for(session: AsyncSession, *, supplier_org_ids: list[uuid.UUID], as_of: dt.date
                      ) -> dict[uuid.UUID, Score]:
    """Platform-wide scores of the given suppliers; a supplier without history gets the neutral prior."""
    if not supplier_org_ids:
        return {}
    facts = await load_facts(session, supplier_org_ids=supplier_org_ids, buyer_org_id=None, as_of=as_of,
                             months=scoring.WINDOW_MONTHS)
    found = scoring.scores(facts, as_of=as_of)
    return {supplier: found.get(supplier) or scoring.neutral() for supplier in supplier_org_ids}


async def _supplier(session: AsyncSession, supplier_org_id: uuid.UUID) -> Organization:
    org = await get_organization(session, supplier_org_id)
    if org.kind not in SUPPLIER_KINDS:
        raise NotFound("No such supplier.", code="supplier.not_found")
    return org


def _score_of(facts: list[Fact], supplier_org_id: uuid.UUID, as_of: dt.date) -> Score:
    return scoring.scores(facts, as_of=as_of).get(supplier_org_id) or scoring.neutral()


async def scorecard(session: AsyncSession, *, actor: Actor, supplier_org_id: uuid.UUID, as_of: dt.date
                    ) -> Scorecard:
    """One supplier's scorecard as the caller may see it, with a 12-month trend of the rolling score."""
    org = await _supplier(session, supplier_org_id)
    months = 2 * scoring.WINDOW_MONTHS  # the trend's oldest point needs a full window before it
    platform_facts = await load_facts(session, supplier_org_ids=[supplier_org_id], buyer_org_id=None, as_of=as_of,
                                      months=months)
    platform = _score_of(platform_facts, supplier_org_id, as_of)
    platform_trend = scoring.trend(platform_facts, supplier_org_id=supplier_org_id, as_of=as_of)
    own: Score | None = None
    own_trend: list[Decimal | None] = [None] * len(platform_trend)
    if actor.org_id != supplier_org_id:
        own_facts = await load_facts(session, supplier_org_ids=[supplier_org_id], buyer_org_id=actor.org_id,
                                     as_of=as_of, months=months)
        own = _score_of(own_facts, supplier_org_id, as_of)
        own_trend = [point for _, point in scoring.trend(own_facts, supplier_org_id=supplier_org_id, as_of=as_of)]
    detail = own is None or platform.buyers >= scoring.MIN_BUYERS_FOR_DETAIL
    reviews = await session.scalars(select(SupplierReview).where(SupplierReview.supplier_org_id == supplier_org_id)
                                    .order_by(SupplierReview.created_at.desc()).limit(20))
    return Scorecard(
        supplier_org_id=org.id, supplier_name_zh=org.name_zh, supplier_name_en=org.name_en, as_of=as_of,
        window_start=scoring.month_start(as_of, scoring.WINDOW_MONTHS - 1), platform=platform,
        platform_detail=detail, own=own,
        trend=[(month, value, own_value) for (month, value), own_value in zip(platform_trend, own_trend, strict=True)],
        reviews=list(reviews))


@dataclass(frozen=True)
class ScorecardRow:
    """One line of a buyer's supplier list (and of the SRM export)."""

    supplier_org_id: uuid.UUID
    supplier_name_zh: str
    supplier_name_en: str
    own: Score
    platform: Score


async def buyer_scorecards(session: AsyncSession, *, actor: Actor, as_of: dt.date) -> list[ScorecardRow]:
    """Every supplier the buyer has facts about, best own score first (two SQL calls for the facts)."""
    own_facts = await load_facts(session, supplier_org_ids=None, buyer_org_id=actor.org_id, as_of=as_of,
                                 months=scoring.WINDOW_MONTHS)
    own = scoring.scores(own_facts, as_of=as_of)
    if not own:
        return []
    platform = await ratings_for(session, supplier_org_ids=sorted(own, key=str), as_of=as_of)
    orgs = await session.scalars(select(Organization).where(Organization.id.in_(own)))
    rows = [ScorecardRow(org.id, org.name_zh, org.name_en, own[org.id], platform[org.id]) for org in orgs]
    return sorted(rows, key=lambda row: (-row.own.score, row.supplier_name_en, str(row.supplier_org_id)))
