"""Factories for catalogue governance tests: materials, offers and price lists written as the owner."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Material, OfferPriceTier, PriceList, PriceListLine, SupplierOffer
from catalog.service.materials import NewMaterial, insert_materials
from tradeloom.audit import Actor

BOLT_ATTRIBUTES = {"thread": "M8", "length_mm": "30", "material": "SS304"}


async def make_material(
    session: AsyncSession, *, owner_org_id: uuid.UUID, class_code: str = "100101",
    name_zh: str = "不锈钢六角螺栓 M8x30", name_en: str = "Stainless hex bolt M8x30",
    attributes: dict[str, Any] | None = None, base_unit: str = "H87", gtin: str | None = None,
    status: str = "active",
) -> Material:
    """A material as the import would create it, then set to ``status``."""
    [code] = await insert_materials(session, actor=Actor(org_id=owner_org_id), materials=[NewMaterial(
        class_code, name_zh, name_en, base_unit, gtin, dict(BOLT_ATTRIBUTES if attributes is None else attributes))])
    material = (await session.execute(
        update(Material).where(Material.code == code).values(status=status).returning(Material)
    )).scalar_one()
    return material


async def make_offer(
    session: AsyncSession, *, supplier_org_id: uuid.UUID, material_id: uuid.UUID, part_number: str,
    valid_from: dt.date | None = None, valid_to: dt.date | None = None, price: str = "1.2500",
) -> SupplierOffer:
    offer = SupplierOffer(org_id=supplier_org_id, material_id=material_id, supplier_part_number=part_number,
                          currency="CNY", order_unit="H87", valid_from=valid_from or dt.date(2026, 1, 1),
                          valid_to=valid_to)
    session.add(offer)
    await session.flush()
    session.add(OfferPriceTier(org_id=supplier_org_id, offer_id=offer.id, min_quantity=Decimal(1),
                               unit_price=Decimal(price)))
    await session.flush()
    return offer


async def make_price_list(
    session: AsyncSession, *, supplier_org_id: uuid.UUID, buyer_org_id: uuid.UUID,
    lines: list[tuple[uuid.UUID, str, str]],
) -> PriceList:
    """A price list with lines (material id, min quantity, unit price)."""
    price_list = PriceList(org_id=supplier_org_id, buyer_org_id=buyer_org_id, name=f"List {uuid.uuid4().hex[:6]}",
                           currency="CNY", valid_from=dt.date(2026, 1, 1))
    session.add(price_list)
    await session.flush()
    session.add_all([
        PriceListLine(org_id=supplier_org_id, price_list_id=price_list.id, buyer_org_id=buyer_org_id,
                      material_id=material_id, min_quantity=Decimal(quantity), unit_price=Decimal(price))
        for material_id, quantity, price in lines
    ])
    await session.flush()
    return price_list
