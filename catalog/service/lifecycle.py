"""Material lifecycle: draft → active → blocked → retired, with the rules that keep codes trustworthy.

- draft → active (released for use) or → retired (abandoned before use);
- active ⇄ blocked (temporarily not to be bought, e.g. a quality hold);
- active or blocked → retired. Retired is final: the code stays in the table for ever (rows are never
  deleted and sequences only move forward), so a retired code is never given to another material.
"""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Material
from catalog.schemas.materials import MaterialStatus
from catalog.service.materials import ensure_editable, get_material, record_change
from tradeloom.audit import Actor
from tradeloom.concurrency import check_version
from tradeloom.errors import Conflict

_S = MaterialStatus
TRANSITIONS: dict[MaterialStatus, frozenset[MaterialStatus]] = {
    _S.DRAFT: frozenset({_S.ACTIVE, _S.RETIRED}),
    _S.ACTIVE: frozenset({_S.BLOCKED, _S.RETIRED}),
    _S.BLOCKED: frozenset({_S.ACTIVE, _S.RETIRED}),
    _S.RETIRED: frozenset(),
}


def transition_problem(current: MaterialStatus, target: MaterialStatus) -> str | None:
    """Why ``current → target`` is not allowed, or None when it is."""
    if target in TRANSITIONS[current]:
        return None
    allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (retired is final)"
    return f"A {current.value} material cannot become {target.value}; it can become {allowed}."


async def change_status(
    session: AsyncSession, *, actor: Actor, material_id: uuid.UUID, expected_version: int,
    status: MaterialStatus, reason: str | None = None, platform_admin: bool = False,
) -> Material:
    """Move a material along its lifecycle (If-Match guarded); emits ``material.status_changed``."""
    material = await get_material(session, material_id=material_id)
    ensure_editable(material, actor, platform_admin=platform_admin)
    check_version(material.version, expected_version)
    current = MaterialStatus(material.status)
    if problem := transition_problem(current, status):
        raise Conflict(problem, code="catalog.status_transition_refused")
    material.status = status.value
    await session.flush()
    await record_change(session, actor=actor, material=material, change=f"status:{status.value}",
                        topic="material.status_changed",
                        details={"from": current.value, "to": status.value, "reason": reason})
    return material
