"""Duplicate detection over the whole material library, and the review queue it fills.

The scan is a platform job: it reads every live material (all tenants) class by class, scores pairs with
``catalog.similarity.candidate_pairs`` (blocked by class, prefiltered by name) and upserts the pairs that
reach the threshold. A pair already dismissed or merged keeps its decision; an open pair gets the new
score. Numbers are compared in template units: stored values are read back as decimals of the unit their
class template names, so "30" and "30.0" mm, or 30 mm and 3 cm, are equal.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Row, Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from catalog.attributes import AttributeTemplate, AttributeType
from catalog.classes import load_class_tree
from catalog.governance.models import MaterialDuplicateCandidate
from catalog.models import Material
from catalog.similarity import DuplicateCandidate, MaterialRecord, candidate_pairs, template_units
from tradeloom.audit import Actor
from tradeloom.db import utcnow
from tradeloom.errors import Conflict, Forbidden, NotFound
from tradeloom.outbox.service import emit
from tradeloom.pagination import decode_cursor, encode_cursor

DEDUPE_REQUESTED = "catalog.dedupe_requested"
DEFAULT_THRESHOLD = 85.0
_UPSERT_BATCH = 2_000


@dataclass(frozen=True)
class ScanSummary:
    classes: int
    materials: int
    pairs: int


def _typed(template: AttributeTemplate, attributes: dict[str, Any]) -> dict[str, object]:
    """Stored numbers (kept as exact text) as decimals, so that units and trailing zeros do not matter."""
    typed: dict[str, object] = {}
    for key, value in attributes.items():
        spec = template.spec(key)
        try:
            if spec is not None and spec.type is AttributeType.NUMBER and isinstance(value, str):
                value = Decimal(value)
            elif spec is not None and spec.type is AttributeType.RANGE and isinstance(value, dict):
                value = {end: Decimal(value[end]) for end in ("min", "max")}
        except (ArithmeticError, KeyError):
            pass  # a malformed stored value is compared as it is (the quality score flags it)
        typed[key] = value
    return typed


def _records(class_code: str, rows: Sequence[Row[Any]]) -> list[MaterialRecord]:
    node = load_class_tree().get(class_code)
    template = node.attributes if node else AttributeTemplate()
    units = template_units(template)
    return [MaterialRecord(id=row.id, class_code=class_code, name_zh=row.name_zh, name_en=row.name_en,
                           attributes=_typed(template, row.attributes), base_unit=row.base_unit,
                           attribute_units=units) for row in rows]


def _candidate_row(candidate: DuplicateCandidate, owners: dict[uuid.UUID, uuid.UUID], class_code: str,
                   ) -> dict[str, Any]:
    first, second = sorted((uuid.UUID(str(candidate.first_id)), uuid.UUID(str(candidate.second_id))))
    parts: dict[str, Any] = dict(candidate.score.parts) | {"conflicts": list(candidate.score.conflicts)}
    return {"id": uuid.uuid4(), "first_material_id": first, "second_material_id": second,
            "first_owner_org_id": owners[first], "second_owner_org_id": owners[second], "class_code": class_code,
            "score": Decimal(str(candidate.score.total)), "parts": parts, "status": "open",
            "created_at": utcnow(), "updated_at": utcnow()}


async def _upsert(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    table = cast(Table, MaterialDuplicateCandidate.__table__)
    for start in range(0, len(rows), _UPSERT_BATCH):
        statement = pg_insert(table).values(rows[start:start + _UPSERT_BATCH])
        await session.execute(statement.on_conflict_do_update(
            index_elements=["first_material_id", "second_material_id"],
            set_={"score": statement.excluded.score, "parts": statement.excluded.parts, "updated_at": utcnow()},
            where=table.c.status == "open",
        ))


async def scan_for_duplicates(session: AsyncSession, *, threshold: float = DEFAULT_THRESHOLD) -> ScanSummary:
    """Score every live material against the others of its class; store the likely duplicates."""
    class_codes = list(await session.scalars(
        select(Material.class_code).where(Material.status != "retired").distinct().order_by(Material.class_code)))
    materials = pairs = 0
    for class_code in class_codes:
        rows = (await session.execute(
            select(Material.id, Material.owner_org_id, Material.name_zh, Material.name_en, Material.attributes,
                   Material.base_unit)
            .where(Material.class_code == class_code, Material.status != "retired")
        )).all()
        owners = {row.id: row.owner_org_id for row in rows}
        found = candidate_pairs(_records(class_code, rows), threshold=threshold)
        await _upsert(session, [_candidate_row(candidate, owners, class_code) for candidate in found])
        materials, pairs = materials + len(rows), pairs + len(found)
    return ScanSummary(classes=len(class_codes), materials=materials, pairs=pairs)


@dataclass(frozen=True)
class CandidateView:
    """A queue entry with both materials' codes and names, for review."""

    candidate: MaterialDuplicateCandidate
    first: Material
    second: Material


async def list_candidates(
    session: AsyncSession, *, status: str, mine_only_for: uuid.UUID | None, limit: int, cursor: str | None,
) -> tuple[list[CandidateView], str | None]:
    """Queue entries with a status, best score first; ``mine_only_for`` keeps those touching that org."""
    first, second = aliased(Material), aliased(Material)
    query = (select(MaterialDuplicateCandidate, first, second)
             .join(first, first.id == MaterialDuplicateCandidate.first_material_id)
             .join(second, second.id == MaterialDuplicateCandidate.second_material_id)
             .where(MaterialDuplicateCandidate.status == status)
             .order_by(MaterialDuplicateCandidate.score.desc(), MaterialDuplicateCandidate.id).limit(limit + 1))
    if mine_only_for is not None:
        query = query.where((MaterialDuplicateCandidate.first_owner_org_id == mine_only_for)
                            | (MaterialDuplicateCandidate.second_owner_org_id == mine_only_for))
    if cursor:
        score, last_id = decode_cursor(cursor, arity=2)
        query = query.where((MaterialDuplicateCandidate.score < Decimal(str(score)))
                            | ((MaterialDuplicateCandidate.score == Decimal(str(score)))
                               & (MaterialDuplicateCandidate.id > uuid.UUID(str(last_id)))))
    rows = (await session.execute(query)).all()
    views = [CandidateView(candidate, a, b) for candidate, a, b in rows[:limit]]
    if len(rows) <= limit:
        return views, None
    return views, encode_cursor(str(views[-1].candidate.score), str(views[-1].candidate.id))


async def dismiss_candidate(
    session: AsyncSession, *, actor: Actor, candidate_id: uuid.UUID,
) -> MaterialDuplicateCandidate:
    """Mark a pair as not duplicates; only an owner of either material (or a platform admin) decides."""
    dismissed = await session.scalar(
        update(MaterialDuplicateCandidate)
        .where(MaterialDuplicateCandidate.id == candidate_id, MaterialDuplicateCandidate.status == "open")
        .values(status="dismissed", reviewed_by_org_id=actor.org_id, reviewed_by_user_id=actor.user_id,
                reviewed_at=utcnow(), updated_at=utcnow())
        .returning(MaterialDuplicateCandidate)
    )
    if dismissed is not None:
        return dismissed
    existing = await session.get(MaterialDuplicateCandidate, candidate_id)
    if existing is None:
        raise NotFound("No such duplicate candidate.", code="catalog.candidate_not_found")
    if existing.status != "open":
        raise Conflict(f"This pair was already {existing.status}.", code="catalog.candidate_decided")
    raise Forbidden("Only an owner of either material (or a platform admin) may decide on this pair.",
                    code="catalog.candidate_forbidden")


async def request_scan(session: AsyncSession, *, actor: Actor) -> None:
    """Queue a scan of the whole library (sent to the worker after commit)."""
    await emit(session, org_id=actor.org_id, topic=DEDUPE_REQUESTED, payload={"threshold": DEFAULT_THRESHOLD})
