"""The searchable form of a material, read from the catalogue tables (shared by both backends' indexing).

A material is searchable while it is active and not merged. Its document carries our own lexemes (names
first, then class names and attribute values) and the facts of its live public offers: suppliers, lowest
price in the catalogue currency, stock, lead time.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, distinct, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Material, MaterialClass, OfferPriceTier, OfferStock, SupplierOffer
from catalog.normalize import search_tokens
from catalog.search.query import CATALOGUE_CURRENCY

SEARCHABLE_STATUS = "active"


@dataclass(frozen=True)
class OfferFacts:
    supplier_ids: tuple[uuid.UUID, ...] = ()
    offer_count: int = 0
    best_price: Decimal | None = None
    in_stock: bool = False
    lead_time_days: int | None = None
    part_numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class MaterialDocument:
    material_id: uuid.UUID
    code: str
    name_zh: str
    name_en: str
    class_code: str
    class_names: tuple[str, ...]  # leaf first, then its ancestors, zh and en
    attributes: dict[str, Any]
    gtin: str | None
    offers: OfferFacts

    def name_tokens(self) -> list[str]:
        return search_tokens(f"{self.name_zh} {self.name_en}")

    def context_tokens(self) -> list[str]:
        """Class names and attribute values: they find a material but weigh less than its name."""
        return search_tokens(" ".join([*self.class_names, *attribute_words(self.attributes)]))

    def attribute_pairs(self) -> list[str]:
        return [f"{key}={value}" for key, value in self.attributes.items() if isinstance(value, str | int | bool)]


def attribute_words(attributes: dict[str, Any]) -> list[str]:
    words: list[str] = []
    for value in attributes.values():
        if isinstance(value, dict):
            words += [str(part) for part in value.values()]
        elif not isinstance(value, bool):
            words.append(str(value))
    return words


def _live_offer() -> Any:
    today = func.current_date()
    return and_(SupplierOffer.status == "active", SupplierOffer.valid_from <= today,
                or_(SupplierOffer.valid_to.is_(None), SupplierOffer.valid_to >= today))


async def offer_facts(session: AsyncSession, material_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, OfferFacts]:
    """Facts of the live public offers of these materials (offers, tiers and stock are readable by all)."""
    lowest_tier = select(func.min(OfferPriceTier.unit_price)).where(
        OfferPriceTier.offer_id == SupplierOffer.id).scalar_subquery()
    stocked = exists().where(OfferStock.offer_id == SupplierOffer.id, OfferStock.quantity > 0)
    rows = await session.execute(
        select(SupplierOffer.material_id, func.array_agg(distinct(SupplierOffer.org_id)), func.count(),
               func.min(lowest_tier).filter(SupplierOffer.currency == CATALOGUE_CURRENCY),
               func.bool_or(stocked), func.min(SupplierOffer.lead_time_days),
               func.array_agg(SupplierOffer.supplier_part_number))
        .where(SupplierOffer.material_id.in_(material_ids), _live_offer())
        .group_by(SupplierOffer.material_id)
    )
    return {
        row[0]: OfferFacts(tuple(sorted(row[1])), row[2], row[3], bool(row[4]), row[5], tuple(row[6])) for row in rows
    }


async def class_names(session: AsyncSession, class_codes: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Names of each class and its ancestors, zh and en, leaf first."""
    rows = (await session.execute(select(MaterialClass.code, MaterialClass.parent_code, MaterialClass.name_zh,
                                         MaterialClass.name_en))).all()
    by_code = {code: (parent, zh, en) for code, parent, zh, en in rows}
    names: dict[str, tuple[str, ...]] = {}
    for code in set(class_codes):
        path: list[str] = []
        current: str | None = code
        while current is not None and current in by_code and len(path) < 16:
            parent, zh, en = by_code[current]
            path += [zh, en]
            current = parent
        names[code] = tuple(path)
    return names


async def load_documents(
    session: AsyncSession, material_ids: Sequence[uuid.UUID]
) -> tuple[list[MaterialDocument], set[uuid.UUID]]:
    """The documents of the searchable ones among ``material_ids``, and the ids that are not searchable."""
    materials = (await session.scalars(
        select(Material).where(Material.id.in_(material_ids), Material.status == SEARCHABLE_STATUS,
                               Material.merged_into_id.is_(None))
    )).all()
    found = [material.id for material in materials]
    facts = await offer_facts(session, found)
    names = await class_names(session, {material.class_code for material in materials})
    documents = [
        MaterialDocument(
            material_id=m.id, code=m.code, name_zh=m.name_zh, name_en=m.name_en, class_code=m.class_code,
            class_names=names.get(m.class_code, ()), attributes=dict(m.attributes), gtin=m.gtin,
            offers=facts.get(m.id, OfferFacts()),
        )
        for m in materials
    ]
    return documents, set(material_ids) - set(found)
