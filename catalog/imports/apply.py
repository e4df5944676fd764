"""Checking checked rows against stored data, and writing them: one kind of file each.

Everything here runs in the import's one transaction; a problem found by ``stored_data_problems`` or an
error while writing leaves nothing behind, because the caller rolls that transaction back.
"""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from catalog.imports.rows import ImportKind, MaterialRow, OfferRow, ParsedRow, PriceLineRow, RowProblem
from catalog.models import Material, OfferPriceTier, PriceList, PriceListLine, SupplierOffer
from catalog.service.materials import NewMaterial, insert_materials
from tradeloom.audit import Actor
from tradeloom.db import utcnow
from tradeloom.identity.models import Organization

_CHUNK = 5_000  # keeps IN lists and parameter counts well inside PostgreSQL's limits


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[start:start + _CHUNK] for start in range(0, len(values), _CHUNK)]


async def _existing(session: AsyncSession, column: Any, values: set[str], *where: Any) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(sorted(values)):
        found.update(await session.scalars(select(column).where(column.in_(chunk), *where)))
    return found


async def _materials_by_code(session: AsyncSession, codes: set[str]) -> dict[str, tuple[uuid.UUID, str | None]]:
    """Code → (id, code of the material it was merged into, or None)."""
    survivor = aliased(Material)
    found: dict[str, tuple[uuid.UUID, str | None]] = {}
    for chunk in _chunks(sorted(codes)):
        rows = await session.execute(
            select(Material.code, Material.id, survivor.code)
            .outerjoin(survivor, survivor.id == Material.merged_into_id)
            .where(Material.code.in_(chunk))
        )
        for code, material_id, merged_into in rows:
            found[code] = (material_id, merged_into)
    return found


def _code_problems(rows: Sequence[OfferRow | PriceLineRow],
                   materials: dict[str, tuple[uuid.UUID, str | None]]) -> list[RowProblem]:
    problems: list[RowProblem] = []
    for row in rows:
        if not row.material_code:
            continue
        if row.material_code not in materials:
            problems.append(RowProblem(row.row, "material_code", "unknown_material",
                                       f"no material has the code {row.material_code}"))
        elif (merged_into := materials[row.material_code][1]) is not None:
            problems.append(RowProblem(row.row, "material_code", "material_merged",
                                       f"{row.material_code} was merged into {merged_into}; use {merged_into}"))
    return problems


async def _material_problems(session: AsyncSession, rows: Sequence[MaterialRow]) -> list[RowProblem]:
    taken = await _existing(session, Material.gtin, {row.gtin for row in rows if row.gtin})
    return [RowProblem(row.row, "gtin", "gtin_taken", f"GTIN {row.gtin} is already registered to a material")
            for row in rows if row.gtin in taken]


async def _offer_problems(session: AsyncSession, org_id: uuid.UUID, rows: Sequence[OfferRow],
                          materials: dict[str, tuple[uuid.UUID, str | None]]) -> list[RowProblem]:
    taken = await _existing(session, SupplierOffer.supplier_part_number,
                            {row.supplier_part_number for row in rows}, SupplierOffer.org_id == org_id)
    problems = [RowProblem(row.row, "supplier_part_number", "part_number_taken",
                           f"you already have an offer with part number {row.supplier_part_number}")
                for row in rows if row.supplier_part_number in taken]
    return problems + _code_problems(rows, materials)


async def _buyers(session: AsyncSession, usccs: set[str]) -> dict[str, uuid.UUID]:
    rows = await session.execute(select(Organization.uscc, Organization.id).where(Organization.uscc.in_(usccs)))
    return {uscc: org_id for uscc, org_id in rows}


async def _price_list_problems(session: AsyncSession, org_id: uuid.UUID, rows: Sequence[PriceLineRow],
                               materials: dict[str, tuple[uuid.UUID, str | None]],
                               buyers: dict[str, uuid.UUID]) -> list[RowProblem]:
    problems = [RowProblem(row.row, "buyer_uscc", "unknown_buyer", f"no organization has the code {row.buyer_uscc}")
                for row in rows if row.buyer_uscc and row.buyer_uscc not in buyers]
    names = {(row.price_list_name, buyers[row.buyer_uscc]) for row in rows if row.buyer_uscc in buyers}
    existing = set((await session.execute(
        select(PriceList.name, PriceList.buyer_org_id)
        .where(PriceList.org_id == org_id, tuple_(PriceList.name, PriceList.buyer_org_id).in_(names))
    )).all()) if names else set()
    problems += [RowProblem(row.row, "price_list_name", "price_list_exists",
                            f"you already have a price list {row.price_list_name!r} for this buyer")
                 for row in rows if (row.price_list_name, buyers.get(row.buyer_uscc)) in existing]
    return problems + _code_problems(rows, materials)


async def stored_data_problems(session: AsyncSession, *, actor: Actor, kind: ImportKind,
                               rows: Sequence[ParsedRow]) -> list[RowProblem]:
    """Problems that only the database can tell: unknown or merged codes, taken GTINs and part numbers."""
    if kind is ImportKind.MATERIALS:
        return await _material_problems(session, [row for row in rows if isinstance(row, MaterialRow)])
    coded = [row for row in rows if isinstance(row, OfferRow | PriceLineRow)]
    materials = await _materials_by_code(session, {row.material_code for row in coded if row.material_code})
    if kind is ImportKind.OFFERS:
        return await _offer_problems(session, actor.org_id, [r for r in coded if isinstance(r, OfferRow)], materials)
    lines = [row for row in coded if isinstance(row, PriceLineRow)]
    buyers = await _buyers(session, {row.buyer_uscc for row in lines if row.buyer_uscc})
    return await _price_list_problems(session, actor.org_id, lines, materials, buyers)


async def _write_materials(session: AsyncSession, actor: Actor, rows: Sequence[MaterialRow]) -> list[dict[str, Any]]:
    codes = await insert_materials(session, actor=actor, materials=[
        NewMaterial(row.class_code, row.name_zh, row.name_en, row.base_unit, row.gtin, dict(row.attributes))
        for row in rows
    ])
    return [{"row": row.row, "code": code} for row, code in zip(rows, codes, strict=True)]


async def _material_ids(session: AsyncSession, rows: Sequence[OfferRow | PriceLineRow]) -> dict[str, uuid.UUID]:
    found = await _materials_by_code(session, {row.material_code for row in rows})
    return {code: material_id for code, (material_id, _) in found.items()}


async def _write_offers(session: AsyncSession, actor: Actor, rows: Sequence[OfferRow]) -> list[dict[str, Any]]:
    material_ids = await _material_ids(session, rows)
    now = utcnow()
    offers = [{
        "id": uuid.uuid4(), "org_id": actor.org_id, "material_id": material_ids[row.material_code],
        "supplier_part_number": row.supplier_part_number, "currency": row.currency, "order_unit": row.order_unit,
        "moq": row.moq, "pack_size": row.pack_size, "lead_time_days": row.lead_time_days, "incoterm": row.incoterm,
        "valid_from": row.valid_from, "valid_to": row.valid_to, "status": "active", "created_at": now, "version": 1,
    } for row in rows]
    await session.execute(insert(SupplierOffer), offers)
    await session.execute(insert(OfferPriceTier), [
        {"org_id": actor.org_id, "offer_id": offer["id"], "min_quantity": quantity, "unit_price": price}
        for offer, row in zip(offers, rows, strict=True) for quantity, price in row.tiers
    ])
    return [{"row": row.row, "supplier_part_number": row.supplier_part_number, "id": str(offer["id"])}
            for row, offer in zip(rows, offers, strict=True)]


async def _write_price_lists(session: AsyncSession, actor: Actor, rows: Sequence[PriceLineRow]) -> list[dict[str, Any]]:
    material_ids = await _material_ids(session, rows)
    buyers = await _buyers(session, {row.buyer_uscc for row in rows})
    lists: dict[str, dict[str, Any]] = {}
    for row in rows:
        lists.setdefault(row.price_list_name, {
            "id": uuid.uuid4(), "org_id": actor.org_id, "buyer_org_id": buyers[row.buyer_uscc],
            "name": row.price_list_name, "kind": "customer", "currency": row.currency, "valid_from": row.valid_from,
            "valid_to": row.valid_to, "created_at": utcnow(), "version": 1,
        })
    await session.execute(insert(PriceList), list(lists.values()))
    await session.execute(insert(PriceListLine), [
        {"org_id": actor.org_id, "price_list_id": lists[row.price_list_name]["id"],
         "buyer_org_id": lists[row.price_list_name]["buyer_org_id"], "material_id": material_ids[row.material_code],
         "min_quantity": row.min_quantity, "unit_price": row.unit_price}
        for row in rows
    ])
    return [{"price_list": name, "id": str(values["id"])} for name, values in lists.items()]


async def write_rows(session: AsyncSession, *, actor: Actor, kind: ImportKind,
                     rows: Sequence[ParsedRow]) -> list[dict[str, Any]]:
    """Insert every row; returns what was created (material codes by row, offers, price lists)."""
    if kind is ImportKind.MATERIALS:
        return await _write_materials(session, actor, [row for row in rows if isinstance(row, MaterialRow)])
    if kind is ImportKind.OFFERS:
        return await _write_offers(session, actor, [row for row in rows if isinstance(row, OfferRow)])
    return await _write_price_lists(session, actor, [row for row in rows if isinstance(row, PriceLineRow)])
