"""Minimal material writes needed by import and merge, until the material service lands.

TO UNIFY AT MERGE: the material service (branch catalog-materials) owns creating materials and writing
their history; ``insert_materials`` and ``material_snapshot`` should then call or be replaced by it. Kept
here, private to the catalogue package, so that governance does not depend on unmerged code.
"""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.codes import material_code
from catalog.errors import InvalidMaterialCode
from catalog.models import Material, MaterialVersion
from tradeloom.audit import Actor
from tradeloom.db import utcnow

_SNAPSHOT_FIELDS = ("code", "class_code", "owner_org_id", "name_zh", "name_en", "attributes", "base_unit",
                    "pack_sizes", "gtin", "status", "merged_into_id")


@dataclass(frozen=True, slots=True)
class NewMaterial:
    """What a new material needs; its code is allocated from its class sequence."""

    class_code: str
    name_zh: str
    name_en: str
    base_unit: str
    gtin: str | None
    attributes: dict[str, Any]


def material_snapshot(values: dict[str, Any]) -> dict[str, Any]:
    """The JSON snapshot kept in ``material_versions`` (ids as text)."""
    return {key: (str(values[key]) if isinstance(values[key], uuid.UUID) else values[key])
            for key in _SNAPSHOT_FIELDS if key in values}


def snapshot_of(material: Material) -> dict[str, Any]:
    """The snapshot of a loaded material."""
    return material_snapshot({key: getattr(material, key) for key in _SNAPSHOT_FIELDS})


async def allocate_codes(session: AsyncSession, class_code: str, count: int) -> list[str]:
    """``count`` consecutive new codes of a leaf class, allocated atomically by one UPDATE."""
    first = await session.scalar(select(func.tl_next_material_sequences(class_code, count, type_=Integer)))
    if first is None:
        raise InvalidMaterialCode(f"Class {class_code} is not a leaf class.")
    return [material_code(class_code, sequence) for sequence in range(first, first + count)]


async def insert_materials(session: AsyncSession, *, actor: Actor, materials: Sequence[NewMaterial]) -> list[str]:
    """Insert draft materials owned by the actor's org, with their first history entry; returns their codes."""
    by_class: dict[str, list[int]] = defaultdict(list)
    for index, material in enumerate(materials):
        by_class[material.class_code].append(index)
    codes = [""] * len(materials)
    for class_code, indexes in sorted(by_class.items()):
        for index, code in zip(indexes, await allocate_codes(session, class_code, len(indexes)), strict=True):
            codes[index] = code
    now = utcnow()
    rows = [
        {"id": uuid.uuid4(), "code": code, "class_code": m.class_code, "owner_org_id": actor.org_id,
         "name_zh": m.name_zh, "name_en": m.name_en, "attributes": m.attributes, "base_unit": m.base_unit,
         "pack_sizes": {}, "gtin": m.gtin, "status": "draft", "created_at": now, "updated_at": now, "version": 1}
        for code, m in zip(codes, materials, strict=True)
    ]
    if rows:
        await session.execute(insert(Material), rows)
        await session.execute(insert(MaterialVersion), [
            {"material_id": row["id"], "version": 1, "snapshot": material_snapshot(row), "change": "created",
             "changed_by_org_id": actor.org_id, "changed_by_user_id": actor.user_id, "changed_at": now}
            for row in rows
        ])
    return codes
