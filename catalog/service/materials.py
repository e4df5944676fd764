"""The material master: create, read, find by code (following merges), list, update with history.

Materials are shared master data: every member reads them, the owning organization (or a platform admin)
changes them. Each change writes a ``material_versions`` snapshot, an outbox event for the search index
(payload ``{material_id, code, version}``) and an audit entry, all in the caller's transaction.
"""

import uuid
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.attributes import AttributeTemplate, check_attributes
from catalog.codes import check_material_code, gtin_problem, material_code
from catalog.errors import InvalidMaterialCode
from catalog.models import Material, MaterialVersion
from catalog.schemas.materials import MaterialCreate, MaterialStatus, MaterialUpdate
from catalog.service.classes import class_and_descendants, leaf_class, template_of
from catalog.units import PackSize, get_unit
from tradeloom.audit import Actor, record_audit
from tradeloom.concurrency import check_version
from tradeloom.db import flush_or_conflict, utcnow
from tradeloom.errors import Conflict, Forbidden, Invalid, NotFound
from tradeloom.outbox.service import emit
from tradeloom.pagination import decode_cursor, encode_cursor

# A merge chain longer than this is a data error (merges are flattened when made), not a reason to loop.
_MAX_REDIRECTS = 8


@dataclass(frozen=True)
class MaterialLookup:
    """The material answering for a code; ``redirected_from`` is the retired code when it was merged."""

    material: Material
    requested_code: str
    redirected_from: str | None


def json_value(value: object) -> Any:
    """Attribute values as stored in JSON: decimals as strings (exact), ranges as {min, max} strings."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {key: json_value(item) for key, item in value.items()}
    return value


def checked_attributes(template: AttributeTemplate, values: Mapping[str, object]) -> dict[str, Any]:
    """The values normalized to the template (numbers in its units), or a 422 naming every bad attribute."""
    check = check_attributes(template, values)
    if check.problems:
        first = check.problems[0]
        more = f" (and {len(check.problems) - 1} more)" if len(check.problems) > 1 else ""
        raise Invalid(f"Attribute {first.message}{more}", code="catalog.invalid_attributes",
                      errors=[problem.as_error() for problem in check.problems])
    return {key: json_value(value) for key, value in check.values.items()}


def checked_units(base_unit: str, pack_sizes: Mapping[str, Decimal]) -> dict[str, str]:
    """Validate the base unit and pack sizes; returns pack sizes as stored ({"BX": "100"})."""
    if get_unit(base_unit).factor is None:
        raise Invalid(f"{base_unit} has no fixed size and cannot be a base unit; count in pieces (H87) "
                      "and declare the pack size instead.", code="catalog.base_unit_is_packaging",
                      errors=[{"pointer": "/base_unit", "unit": base_unit}])
    stored: dict[str, str] = {}
    for code, quantity in pack_sizes.items():
        if get_unit(code).factor is not None:
            raise Invalid(f"{code} has a fixed size; pack sizes are declared only for packaging units "
                          "(BX, PK, CT, BG, RO, SET).", code="catalog.pack_size_fixed_unit",
                          errors=[{"pointer": f"/pack_sizes/{code}", "unit": code}])
        stored[code] = format(quantity.normalize(), "f")
    return stored


def pack_sizes_of(material: Material) -> dict[str, PackSize]:
    """The material's pack sizes for unit conversion (each pack counted in base units)."""
    return {code: PackSize(Decimal(quantity), material.base_unit) for code, quantity in material.pack_sizes.items()}


def checked_gtin(gtin: str | None) -> str | None:
    """The GTIN if its length, digits and GS1 check digit are right (None stays None), else a 422."""
    if gtin is not None and (problem := gtin_problem(gtin)):
        raise Invalid(problem, code="catalog.invalid_gtin", errors=[{"pointer": "/gtin", "detail": problem}])
    return gtin


def snapshot(material: Material) -> dict[str, Any]:
    """What a version records: every field a person can change, plus status and merge link."""
    return {
        "code": material.code, "class_code": material.class_code, "owner_org_id": str(material.owner_org_id),
        "name_zh": material.name_zh, "name_en": material.name_en, "attributes": material.attributes,
        "base_unit": material.base_unit, "pack_sizes": material.pack_sizes, "gtin": material.gtin,
        "status": material.status,
        "merged_into_id": str(material.merged_into_id) if material.merged_into_id else None,
    }


async def record_change(
    session: AsyncSession, *, actor: Actor, material: Material, change: str, topic: str,
    details: dict[str, Any] | None = None,
) -> None:
    """History row, outbox event and audit entry for a change already flushed."""
    session.add(MaterialVersion(
        material_id=material.id, version=material.version, snapshot=snapshot(material), change=change,
        changed_by_org_id=actor.org_id, changed_by_user_id=actor.user_id,
    ))
    await session.flush()
    payload = {"material_id": str(material.id), "code": material.code, "version": material.version}
    await emit(session, org_id=actor.org_id, topic=topic, payload=payload)
    await record_audit(session, actor=actor, action=topic, object_type="material", object_id=material.id,
                       details=(details or {}) | payload)


async def create_material(session: AsyncSession, *, actor: Actor, fields: MaterialCreate) -> Material:
    """Register a material under a leaf class; it gets the class's next unified code and starts as draft."""
    node = await leaf_class(session, fields.class_code)
    attributes = checked_attributes(template_of(node), fields.attributes)
    pack_sizes = checked_units(fields.base_unit, fields.pack_sizes)
    gtin = checked_gtin(fields.gtin)
    sequence = await session.scalar(select(func.tl_next_material_sequence(node.code)))
    material = Material(
        code=material_code(node.code, int(sequence or 0)), class_code=node.code, owner_org_id=actor.org_id,
        name_zh=fields.name_zh, name_en=fields.name_en, attributes=attributes, base_unit=fields.base_unit,
        pack_sizes=pack_sizes, gtin=gtin, status=MaterialStatus.DRAFT.value,
    )
    session.add(material)
    await flush_or_conflict(session, f"GTIN {gtin} already identifies another material.", "catalog.gtin_taken")
    await record_change(session, actor=actor, material=material, change="created", topic="material.created")
    return material


@dataclass(frozen=True, slots=True)
class NewMaterial:
    """A material for a bulk insert (file import), already validated; its code comes from its class sequence."""

    class_code: str
    name_zh: str
    name_en: str
    base_unit: str
    gtin: str | None
    attributes: dict[str, Any]


async def allocate_codes(session: AsyncSession, class_code: str, count: int) -> list[str]:
    """``count`` consecutive new codes of a leaf class, allocated atomically by one UPDATE."""
    first = await session.scalar(select(func.tl_next_material_sequences(class_code, count, type_=Integer)))
    if first is None:
        raise InvalidMaterialCode(f"Class {class_code} is not a leaf class.")
    return [material_code(class_code, sequence) for sequence in range(first, first + count)]


async def insert_materials(session: AsyncSession, *, actor: Actor, materials: Sequence[NewMaterial]) -> list[str]:
    """Bulk-insert draft materials owned by the actor's organization with their first history entry (two
    statements for any number); returns their codes. The caller indexes them and records the import."""
    by_class: dict[str, list[int]] = defaultdict(list)
    for index, new in enumerate(materials):
        by_class[new.class_code].append(index)
    codes = [""] * len(materials)
    for class_code, indexes in sorted(by_class.items()):
        for index, code in zip(indexes, await allocate_codes(session, class_code, len(indexes)), strict=True):
            codes[index] = code
    now = utcnow()
    rows = [
        {"id": uuid.uuid4(), "code": code, "class_code": m.class_code, "owner_org_id": actor.org_id,
         "name_zh": m.name_zh, "name_en": m.name_en, "attributes": m.attributes, "base_unit": m.base_unit,
         "pack_sizes": {}, "gtin": m.gtin, "status": MaterialStatus.DRAFT.value, "created_at": now,
         "updated_at": now, "version": 1}
        for code, m in zip(codes, materials, strict=True)
    ]
    if rows:
        await session.execute(insert(Material), rows)
        await session.execute(insert(MaterialVersion), [
            {"material_id": row["id"], "version": 1, "snapshot": snapshot(Material(**row)), "change": "created",
             "changed_by_org_id": actor.org_id, "changed_by_user_id": actor.user_id, "changed_at": now}
            for row in rows
        ])
    return codes


async def get_material(session: AsyncSession, *, material_id: uuid.UUID) -> Material:
    """A material by id (every member reads the shared master data)."""
    material = await session.get(Material, material_id)
    if material is None:
        raise NotFound("No such material.", code="catalog.material_not_found")
    return material


async def materials_by_id(session: AsyncSession, *, material_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Material]:
    """The materials with these ids in one query (for documents with many lines); unknown ids are absent."""
    found = await session.scalars(select(Material).where(Material.id.in_(set(material_ids))))
    return {material.id: material for material in found}


_MATERIALS_BY_CODE = select(Material).where(Material.code.in_(bindparam("codes", expanding=True)))  # built once: carts


async def materials_by_code(session: AsyncSession, *, codes: Collection[str]) -> dict[str, MaterialLookup]:
    """The materials with these codes, in one query unless a code was retired by a merge; unknown codes absent."""
    found = {m.code: m for m in await session.scalars(_MATERIALS_BY_CODE, {"codes": list(set(codes))})}
    return {
        code: await find_material_by_code(session, code=code) if material.merged_into_id
        else MaterialLookup(material, code, redirected_from=None)
        for code, material in found.items()
    }


async def find_material_by_code(session: AsyncSession, *, code: str) -> MaterialLookup:
    """The material with this code; a code retired by a merge answers with the surviving material."""
    if problem := check_material_code(code):
        raise Invalid(problem, code="catalog.invalid_material_code")
    material = await session.scalar(select(Material).where(Material.code == code))
    if material is None:
        raise NotFound(f"No material has code {code}.", code="catalog.material_not_found")
    found = material
    for _ in range(_MAX_REDIRECTS):
        if found.merged_into_id is None:
            break
        found = await get_material(session, material_id=found.merged_into_id)
    else:
        raise Conflict(f"The merge chain of {code} is too long.", code="catalog.merge_chain_too_long")
    return MaterialLookup(found, code, redirected_from=code if found is not material else None)


async def list_materials(
    session: AsyncSession, *, limit: int, cursor: str | None, class_code: str | None = None,
    status: MaterialStatus | None = None, owner_org_id: uuid.UUID | None = None,
) -> tuple[list[Material], str | None]:
    """Materials in code order, one keyset page at a time; a group class includes everything below it."""
    query = select(Material).order_by(Material.code).limit(limit + 1)
    if cursor:
        (after_code,) = decode_cursor(cursor, arity=1)
        query = query.where(Material.code > str(after_code))
    if class_code:
        query = query.where(Material.class_code.in_(await class_and_descendants(session, class_code)))
    if status:
        query = query.where(Material.status == status.value)
    if owner_org_id:
        query = query.where(Material.owner_org_id == owner_org_id)
    materials = list((await session.scalars(query)).all())
    next_cursor = encode_cursor(materials[limit - 1].code) if len(materials) > limit else None
    return materials[:limit], next_cursor


def ensure_editable(material: Material, actor: Actor, *, platform_admin: bool) -> None:
    """Only the owning organization (or a platform admin) changes a material."""
    if material.owner_org_id != actor.org_id and not platform_admin:
        raise Forbidden("Only the organization that owns this material can change it.",
                        code="catalog.not_material_owner")


async def update_material(
    session: AsyncSession, *, actor: Actor, material_id: uuid.UUID, expected_version: int,
    changes: MaterialUpdate, platform_admin: bool = False,
) -> Material:
    """Change the fields sent (re-validated as on create); the base unit is fixed once a material is active."""
    material = await get_material(session, material_id=material_id)
    ensure_editable(material, actor, platform_admin=platform_admin)
    check_version(material.version, expected_version)
    if material.status == MaterialStatus.RETIRED:
        raise Conflict(f"{material.code} is retired and can no longer change.", code="catalog.material_retired")
    sent = changes.model_dump(exclude_unset=True)
    if emptied := sorted(name for name, value in sent.items() if value is None and name != "gtin"):
        raise Invalid(f"{', '.join(emptied)} cannot be emptied.", code="catalog.field_required",
                      errors=[{"pointer": f"/{name}"} for name in emptied])
    if "base_unit" in sent and sent["base_unit"] != material.base_unit and material.status != MaterialStatus.DRAFT:
        raise Conflict("The base unit can change only while the material is a draft: offers and prices are "
                       "counted in it.", code="catalog.base_unit_locked")
    if "attributes" in sent:
        node = await leaf_class(session, material.class_code)
        material.attributes = checked_attributes(template_of(node), changes.attributes or {})
    if "base_unit" in sent or "pack_sizes" in sent:
        base_unit = changes.base_unit or material.base_unit
        packs = changes.pack_sizes if changes.pack_sizes is not None else pack_sizes_of_stored(material)
        material.pack_sizes = checked_units(base_unit, packs)
        material.base_unit = base_unit
    if "gtin" in sent:
        material.gtin = checked_gtin(changes.gtin)
    for name in ("name_zh", "name_en"):
        if name in sent:
            setattr(material, name, sent[name])
    if not session.is_modified(material):
        return material  # nothing changed: no new version, no event
    await flush_or_conflict(session, f"GTIN {material.gtin} already identifies another material.",
                            "catalog.gtin_taken")
    await record_change(session, actor=actor, material=material, change="updated", topic="material.updated",
                        details={"fields": sorted(sent)})
    return material


def pack_sizes_of_stored(material: Material) -> dict[str, Decimal]:
    """The stored pack sizes as decimals, in the shape a request sends them."""
    return {code: Decimal(quantity) for code, quantity in material.pack_sizes.items()}


async def material_history(session: AsyncSession, *, material_id: uuid.UUID) -> list[MaterialVersion]:
    """Every snapshot of a material, oldest first."""
    await get_material(session, material_id=material_id)
    query = select(MaterialVersion).where(MaterialVersion.material_id == material_id).order_by(
        MaterialVersion.version
    )
    return list((await session.scalars(query)).all())
