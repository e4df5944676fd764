"""Storing quality scores (a platform job over all live materials) and the organization's quality report."""

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, Table, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.governance.quality_scoring import Assessment, QualityFacts, assess
from catalog.models import Material, SupplierOffer
from tradeloom.audit import Actor
from tradeloom.outbox.service import emit

QUALITY_REQUESTED = "catalog.quality_requested"
BUCKETS = ((0, 19), (20, 39), (40, 59), (60, 79), (80, 100))
_BATCH = 2_000


def _facts_query(today: dt.date) -> Select[Any]:
    live = and_(SupplierOffer.status == "active", SupplierOffer.valid_from <= today,
                or_(SupplierOffer.valid_to.is_(None), SupplierOffer.valid_to >= today))
    return (
        select(Material.id, Material.code, Material.class_code, Material.name_zh, Material.name_en,
               Material.base_unit, Material.gtin, Material.attributes, Material.quality_score,
               func.coalesce(func.bool_or(live), False).label("has_live_offer"),
               func.max(SupplierOffer.created_at).label("last_offer_change"))
        .outerjoin(SupplierOffer, SupplierOffer.material_id == Material.id)
        .where(Material.status != "retired")
        .group_by(Material.id)
    )


def _assessed(row: Any, now: dt.datetime) -> Assessment:
    return assess(QualityFacts(row.class_code, row.name_zh, row.name_en, row.base_unit, row.gtin, row.attributes,
                               row.has_live_offer, row.last_offer_change), now=now)


async def score_materials(session: AsyncSession, *, now: dt.datetime) -> int:
    """Recompute ``quality_score`` of every live material; returns how many were scored.

    Runs as a platform job (table owner): scores are derived data, so neither ``version`` nor
    ``updated_at`` of a material changes.
    """
    table = cast(Table, Material.__table__)
    scored, after = 0, uuid.UUID(int=0)
    while True:
        rows = (await session.execute(
            _facts_query(now.date()).where(Material.id > after).order_by(Material.id).limit(_BATCH))).all()
        if not rows:
            return scored
        await session.execute(
            update(table).where(table.c.id == bindparam("material_id"))
            .values(quality_score=bindparam("score"), updated_at=table.c.updated_at),
            [{"material_id": row.id, "score": _assessed(row, now).score} for row in rows],
        )
        scored, after = scored + len(rows), rows[-1].id


@dataclass(frozen=True)
class QualityReport:
    scored: int
    unscored: int
    average: float | None
    buckets: list[dict[str, int]]
    worst: list[dict[str, Any]]


async def quality_report(session: AsyncSession, *, owner_org_id: uuid.UUID | None, now: dt.datetime,
                         worst: int = 20) -> QualityReport:
    """Distribution of the stored scores (of one owner, or all) and the worst materials with their reasons."""
    owned = [Material.status != "retired"] + ([Material.owner_org_id == owner_org_id] if owner_org_id else [])
    score = Material.quality_score
    counts = [func.count().filter(score.between(low, high)) for low, high in BUCKETS]
    totals = (await session.execute(
        select(func.count(score), func.count().filter(score.is_(None)), func.avg(score), *counts).where(*owned)
    )).one()
    rows = (await session.execute(
        _facts_query(now.date()).where(*owned, score.is_not(None)).order_by(score, Material.code).limit(worst))).all()
    buckets = [{"from": low, "to": high, "count": count}
               for (low, high), count in zip(BUCKETS, totals[3:], strict=True)]
    return QualityReport(
        scored=totals[0], unscored=totals[1], average=round(float(totals[2]), 1) if totals[2] is not None else None,
        buckets=buckets,
        worst=[{"code": row.code, "name_zh": row.name_zh, "name_en": row.name_en, "score": row.quality_score,
                "reasons": [reason.as_dict() for reason in _assessed(row, now).reasons]} for row in rows],
    )


async def request_scoring(session: AsyncSession, *, actor: Actor) -> None:
    """Queue a new scoring of the whole library (sent to the worker after commit)."""
    await emit(session, org_id=actor.org_id, topic=QUALITY_REQUESTED, payload={})
