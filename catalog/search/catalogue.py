"""What both backends ask the catalogue database: exact identifiers, the class subtree, facet labels.

Exact lookups always go to PostgreSQL, the system of record, whichever backend searches the text: a code
that was retired or merged leads to its successor there, and a GTIN or part number is one indexed probe.
"""

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import select
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


async def class_codes(session: AsyncSession, class_code: str | None) -> list[str] | None:
    """The class and all classes below it (the tree lives in the database and may change)."""
    if class_code is None:
        return None
    tree = select(MaterialClass.code).where(MaterialClass.code == class_code).cte("tree", recursive=True)
    tree = tree.union_all(select(MaterialClass.code).join(tree, MaterialClass.parent_code == tree.c.code))
    codes: list[str] = list((await session.scalars(select(tree.c.code))).all())
    if not codes:
        raise Invalid(f"There is no material class {class_code!r}.", code="search.unknown_class")
    return codes


async def enum_attribute_keys(session: AsyncSession, class_code: str | None) -> list[str]:
    """Attributes worth a facet: the enum ones of the filtered class's template."""
    if class_code is None:
        return []
    template = await session.scalar(select(MaterialClass.attribute_template).where(MaterialClass.code == class_code))
    return [spec["key"] for spec in template or () if spec.get("type") == "enum"]


async def _names(session: AsyncSession, table: type[MaterialClass] | type[Organization],
                 keys: Sequence[str | uuid.UUID]) -> dict[str, tuple[str, str]]:
    """zh and en names by key (class code or organization id); no query when there is nothing to name."""
    if not keys:
        return {}
    key_column = MaterialClass.code if table is MaterialClass else Organization.id
    rows = await session.execute(select(key_column, table.name_zh, table.name_en).where(key_column.in_(keys)))
    return {str(key): (zh, en) for key, zh, en in rows}


def _ordered(values: Iterable[FacetValue]) -> list[FacetValue]:
    return sorted(values, key=lambda item: (-item.count, item.value))


async def label_facets(session: AsyncSession, counts: FacetCounts, attribute_keys: list[str]) -> Facets:
    """Facets from raw counts (facet → [(value, count)]), with class and supplier names in zh and en."""
    class_rows, supplier_rows = counts.get("class", []), counts.get("supplier", [])
    class_names = await _names(session, MaterialClass, [value for value, _ in class_rows])
    org_names = await _names(session, Organization, [uuid.UUID(value) for value, _ in supplier_rows])
    return Facets(
        classes=_ordered(FacetValue(v, n, *class_names.get(v, (None, None))) for v, n in class_rows),
        attributes={key: _ordered(FacetValue(v, n) for v, n in counts.get(f"attr:{key}", []))
                    for key in attribute_keys},
        suppliers=_ordered(FacetValue(v, n, *org_names.get(v, (None, None))) for v, n in supplier_rows),
        price_ranges=sorted((FacetValue(v, n, price_bucket_label(int(v)), price_bucket_label(int(v)))
                             for v, n in counts.get("price", [])), key=lambda item: int(item.value)),
        in_stock=_ordered(FacetValue(v, n) for v, n in counts.get("in_stock", [])),
    )
