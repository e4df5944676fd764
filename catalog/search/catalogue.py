"""What both backends ask the catalogue database: exact identifiers, the class subtree, facet labels.

Exact lookups always go to PostgreSQL, the system of record, whichever backend searches the text: a code
that was retired or merged leads to its successor there, and a GTIN or part number is one indexed probe.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import String, cast, literal, select, union_all
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Material, MaterialClass, SupplierOffer
from catalog.search.backend import Facets, FacetValue
from catalog.search.documents import SEARCHABLE_STATUS
from catalog.search.identifiers import Identifiers
from catalog.search.query import price_bucket_label
from tradeloom.errors import Invalid
from tradeloom.identity.models import Organization

_MAX_SUCCESSION = 8
FacetCounts = dict[str, list[tuple[str, int]]]


async def exact_ids(session: AsyncSession, identifiers: Identifiers) -> list[uuid.UUID]:
    """Materials named by a code (a retired or merged one leads to its successor), GTIN or part number."""
    if identifiers.material_code:
        return await _by_code(session, identifiers.material_code)
    found: list[uuid.UUID] = []
    if identifiers.gtins:
        found += (await session.scalars(select(Material.id).where(Material.gtin.in_(identifiers.gtins)))).all()
    if identifiers.part_number and not found:
        found += (await session.scalars(
            select(SupplierOffer.material_id).distinct().where(
                SupplierOffer.supplier_part_number.ilike(_escape_like(identifiers.part_number), escape="\\"),
                SupplierOffer.status == "active"))).all()
    return found


async def _by_code(session: AsyncSession, code: str) -> list[uuid.UUID]:
    statement = select(Material.id, Material.status, Material.merged_into_id)
    row = (await session.execute(statement.where(Material.code == code))).first()
    for _hop in range(_MAX_SUCCESSION):
        if row is None or row.merged_into_id is None or row.status == SEARCHABLE_STATUS:
            break
        row = (await session.execute(statement.where(Material.id == row.merged_into_id))).first()
    return [row.id] if row is not None else []


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class ClassFilter:
    """A class filter: the class with every class below it, and the enum attributes worth a facet."""

    codes: list[str] | None = None  # None: no class filter
    attribute_keys: list[str] = field(default_factory=list)


async def class_filter(session: AsyncSession, class_code: str | None) -> ClassFilter:
    """The subtree and the filtered class's enum attributes, in one query (the tree lives in the database)."""
    if class_code is None:
        return ClassFilter()
    tree = (select(MaterialClass.code, MaterialClass.attribute_template).where(MaterialClass.code == class_code)
            .cte("tree", recursive=True))
    tree = tree.union_all(select(MaterialClass.code, literal(None, JSONB))
                          .join(tree, MaterialClass.parent_code == tree.c.code))
    rows = (await session.execute(select(tree.c.code, tree.c.attribute_template))).all()
    if not rows:
        raise Invalid(f"There is no material class {class_code!r}.", code="search.unknown_class")
    template = next(row.attribute_template for row in rows if row.code == class_code)
    return ClassFilter(codes=[row.code for row in rows],
                       attribute_keys=[spec["key"] for spec in template or () if spec.get("type") == "enum"])


async def _names(session: AsyncSession, class_codes: Sequence[str], org_ids: Sequence[str]
                 ) -> dict[str, tuple[str, str]]:
    """zh and en names of classes and organizations by key (code or id as text), in one query or none."""
    parts = []
    if class_codes:
        parts.append(select(MaterialClass.code.label("key"), MaterialClass.name_zh, MaterialClass.name_en)
                     .where(MaterialClass.code.in_(class_codes)))
    if org_ids:
        parts.append(select(cast(Organization.id, String), Organization.name_zh, Organization.name_en)
                     .where(Organization.id.in_([uuid.UUID(value) for value in org_ids])))
    if not parts:
        return {}
    return {key: (zh, en) for key, zh, en in await session.execute(union_all(*parts))}


def _ordered(values: Iterable[FacetValue]) -> list[FacetValue]:
    return sorted(values, key=lambda item: (-item.count, item.value))


async def label_facets(session: AsyncSession, counts: FacetCounts, attribute_keys: list[str],
                       names: dict[str, tuple[str, str]] | None = None) -> Facets:
    """Facets from raw counts (facet → [(value, count)]), with class and supplier names in zh and en
    (looked up here unless the caller already has them)."""
    class_rows, supplier_rows = counts.get("class", []), counts.get("supplier", [])
    if names is None:
        names = await _names(session, [value for value, _ in class_rows], [value for value, _ in supplier_rows])
    return Facets(
        classes=_ordered(FacetValue(v, n, *names.get(v, (None, None))) for v, n in class_rows),
        attributes={key: _ordered(FacetValue(v, n) for v, n in counts.get(f"attr:{key}", []))
                    for key in attribute_keys},
        suppliers=_ordered(FacetValue(v, n, *names.get(v, (None, None))) for v, n in supplier_rows),
        price_ranges=sorted((FacetValue(v, n, price_bucket_label(int(v)), price_bucket_label(int(v)))
                             for v, n in counts.get("price", [])), key=lambda item: int(item.value)),
        in_stock=_ordered(FacetValue(v, n) for v, n in counts.get("in_stock", [])),
    )
