"""Merging two materials that are one: the survivor keeps its code, the other is retired into it.

Rules: only the organization that owns both materials, or a platform admin, merges; both must be live
(not retired), of the same leaf class and base unit. The retired material keeps its row and code for
ever (``merged_into_id`` redirects it; codes come from a sequence and are never reused). Offers,
price-list lines and open duplicate candidates move to the survivor; when one supplier offers both
materials, both offers are kept and reported. Both materials get a history entry; a ``material.merged``
event and a ``catalog.merge`` ledger entry are written in the same transaction.

Two merges of the same pair (in either direction) lock both rows in id order, so one waits for the
other and then finds a retired material: 409, never a half-merged pair or a deadlock.
"""

import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.governance import evidence
from catalog.models import Material, MaterialVersion
from catalog.service.materials import snapshot
from tradeloom.audit import Actor, record_audit
from tradeloom.db import utcnow
from tradeloom.errors import Conflict, Forbidden, Invalid, NotFound
from tradeloom.outbox.service import emit

MATERIAL_MERGED = "material.merged"
_MAX_REDIRECTS = 32


@dataclass(frozen=True)
class MergeResult:
    """What a merge did, as reported to the caller, the event and the ledger."""

    survivor_code: str
    retired_code: str
    offers_moved: int
    price_list_lines_moved: int
    price_list_lines_kept: int
    candidates_moved: int
    same_supplier_offers: list[dict[str, Any]] = field(default_factory=list)

    def facts(self) -> dict[str, Any]:
        return asdict(self)


async def _by_code(session: AsyncSession, codes: tuple[str, str]) -> dict[str, Material]:
    found = {m.code: m for m in await session.scalars(select(Material).where(Material.code.in_(codes)))}
    for code in codes:
        if code not in found:
            raise NotFound(f"No material has the code {code}.", code="catalog.material_not_found")
    return found


def _authorize(actor: Actor, *, platform_admin: bool, materials: list[Material]) -> None:
    if platform_admin or all(m.owner_org_id == actor.org_id for m in materials):
        return
    raise Forbidden("Only the organization that owns both materials (or a platform admin) may merge them.",
                    code="catalog.merge_forbidden")


async def _locked(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Material]:
    """Lock both rows in id order (the same order for every merge) and read them fresh."""
    rows = await session.scalars(
        select(Material).where(Material.id.in_(ids)).order_by(Material.id)
        .with_for_update().execution_options(populate_existing=True)
    )
    return {m.id: m for m in rows}


def _check_mergeable(survivor: Material, retired: Material) -> None:
    for material in (survivor, retired):
        if material.status == "retired":
            raise Conflict(f"{material.code} is already retired; merge into the material it was merged into.",
                           code="catalog.material_retired")
    if survivor.class_code != retired.class_code:
        raise Invalid(f"{survivor.code} is in class {survivor.class_code}, {retired.code} in {retired.class_code}; "
                      "only materials of one class can be the same material.", code="catalog.merge_class_mismatch")
    if survivor.base_unit != retired.base_unit:
        raise Invalid(f"{survivor.code} is counted in {survivor.base_unit}, {retired.code} in {retired.base_unit}; "
                      "align the base units first.", code="catalog.merge_unit_mismatch")


def _history(material: Material, actor: Actor, change: str, extra: dict[str, str]) -> MaterialVersion:
    return MaterialVersion(material_id=material.id, version=material.version, snapshot=snapshot(material) | extra,
                           changed_by_org_id=actor.org_id, changed_by_user_id=actor.user_id, change=change,
                           changed_at=utcnow())


async def _move_references(session: AsyncSession, survivor: Material, retired: Material) -> MergeResult:
    moved: dict[str, Any] = await session.scalar(
        select(func.tl_move_material_references(retired.id, survivor.id, type_=JSONB))
    ) or {}
    return MergeResult(
        survivor_code=survivor.code, retired_code=retired.code, offers_moved=moved["offers_moved"],
        price_list_lines_moved=moved["price_list_lines_moved"], price_list_lines_kept=moved["price_list_lines_kept"],
        candidates_moved=moved["candidates_moved"], same_supplier_offers=moved["same_supplier_offers"],
    )


async def merge_materials(
    session: AsyncSession, *, actor: Actor, platform_admin: bool, survivor_code: str, retired_code: str,
) -> MergeResult:
    """Retire ``retired_code`` into ``survivor_code`` and move everything that pointed at it."""
    if survivor_code == retired_code:
        raise Invalid("A material cannot be merged into itself.", code="catalog.merge_same_material")
    found = await _by_code(session, (survivor_code, retired_code))
    _authorize(actor, platform_admin=platform_admin, materials=list(found.values()))
    locked = await _locked(session, [m.id for m in found.values()])
    survivor, retired = locked[found[survivor_code].id], locked[found[retired_code].id]
    _check_mergeable(survivor, retired)
    retired.status, retired.merged_into_id = "retired", survivor.id
    survivor.updated_at = utcnow()  # the survivor changed too: its version moves on
    await session.flush()
    result = await _move_references(session, survivor, retired)
    session.add_all([
        _history(survivor, actor, "merged", {"merged_from": retired.code}),
        _history(retired, actor, "retired:merged", {"merged_into": survivor.code}),
    ])
    await session.flush()
    facts = result.facts() | {"survivor_id": str(survivor.id), "retired_id": str(retired.id)}
    await emit(session, org_id=actor.org_id, topic=MATERIAL_MERGED, payload=facts)
    await record_audit(session, actor=actor, action="catalog.merge", object_type="material", object_id=survivor.id,
                       details=facts)
    await evidence.record(session, org_id=actor.org_id, kind="catalog.merge", subject=f"material:{survivor.code}",
                          payload=facts)
    return result


async def resolve_material_code(session: AsyncSession, code: str) -> Material:
    """The live material a code stands for: a retired code redirects to the material it was merged into."""
    material = await session.scalar(select(Material).where(Material.code == code))
    for _ in range(_MAX_REDIRECTS):
        if material is None:
            raise NotFound(f"No material has the code {code}.", code="catalog.material_not_found")
        if material.merged_into_id is None:
            return material
        material = await session.get(Material, material.merged_into_id)
    raise Conflict(f"The merges of {code} do not end.", code="catalog.merge_loop")
