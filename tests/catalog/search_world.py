"""A small catalogue for the search tests, built with the ORM as the database owner (no service needed)."""

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.codes import material_code
from catalog.models import Material, OfferPriceTier, OfferStock, PriceList, PriceListLine, SupplierOffer
from tests.factories import make_org
from tradeloom.identity.models import Organization
from tradeloom.identity.roles import OrgKind
from tradeloom.sites.models import Site

TODAY = dt.date(2026, 1, 1)
GTIN = "9506000134352"


@dataclass
class World:
    supplier_a: Organization
    supplier_b: Organization
    materials: dict[str, Material]

    def ids(self) -> list[uuid.UUID]:
        return [material.id for material in self.materials.values()]


async def add_material(session: AsyncSession, owner: Organization, class_code: str, sequence: int, name_zh: str,
                       name_en: str, attributes: dict[str, Any], **fields: Any) -> Material:
    material = Material(code=material_code(class_code, sequence), class_code=class_code, owner_org_id=owner.id,
                        name_zh=name_zh, name_en=name_en, attributes=attributes, base_unit="H87",
                        status=fields.pop("status", "active"), **fields)
    session.add(material)
    await session.flush()
    return material


async def add_offer(session: AsyncSession, supplier: Organization, material: Material, part_number: str,
                    prices: list[str], *, lead_time_days: int = 7, stock: str | None = None,
                    currency: str = "CNY") -> SupplierOffer:
    offer = SupplierOffer(org_id=supplier.id, material_id=material.id, supplier_part_number=part_number,
                          currency=currency, order_unit="H87", valid_from=TODAY, lead_time_days=lead_time_days)
    session.add(offer)
    await session.flush()
    for index, price in enumerate(prices):
        session.add(OfferPriceTier(org_id=supplier.id, offer_id=offer.id, min_quantity=Decimal(10) ** index,
                                   unit_price=Decimal(price)))
    if stock is not None:
        site = Site(org_id=supplier.id, code=f"WH-{uuid.uuid4().hex[:6]}", kind="warehouse", name_zh="仓库",
                    name_en="Warehouse", country="CN", province="江苏省", city="苏州市", address_line="星湖街 1 号")
        session.add(site)
        await session.flush()
        session.add(OfferStock(org_id=supplier.id, offer_id=offer.id, site_id=site.id, quantity=Decimal(stock)))
    await session.flush()
    return offer


async def add_price_list(session: AsyncSession, supplier: Organization, buyer: Organization, material: Material,
                         price: str) -> None:
    price_list = PriceList(org_id=supplier.id, buyer_org_id=buyer.id, name="框架协议价", currency="CNY",
                           valid_from=TODAY)
    session.add(price_list)
    await session.flush()
    session.add(PriceListLine(org_id=supplier.id, price_list_id=price_list.id, buyer_org_id=buyer.id,
                              material_id=material.id, unit_price=Decimal(price)))
    await session.flush()


async def build_world(session: AsyncSession) -> World:
    """Four searchable materials, a retired one merged into the first, offers from two suppliers."""
    supplier_a = await make_org(session, kind=OrgKind.SUPPLIER, name="Alpha")
    supplier_b = await make_org(session, kind=OrgKind.SUPPLIER, name="Beta")
    bolt_attrs = {"thread": "M8", "length_mm": "30", "material": "SS304", "strength_grade": "A2-70"}
    materials = {
        "ss_bolt": await add_material(session, supplier_a, "100101", 1, "不锈钢六角头螺栓 M8×30",
                                      "Stainless steel hex head bolt M8x30", bolt_attrs, gtin=GTIN),
        "cs_bolt": await add_material(session, supplier_a, "100101", 2, "碳钢六角头螺栓 M10×40",
                                      "Carbon steel hex head bolt M10x40",
                                      {"thread": "M10", "length_mm": "40", "material": "carbon steel"}),
        "nut": await add_material(session, supplier_b, "100301", 1, "六角螺母 M8", "Hex nut M8",
                                  {"thread": "M8", "material": "carbon steel"}),
        "bearing": await add_material(session, supplier_b, "110101", 1, "深沟球轴承 6204",
                                      "Deep groove ball bearing 6204", {"designation": "6204"}),
    }
    materials["retired"] = await add_material(session, supplier_a, "100101", 3, "旧编码螺栓", "Old code bolt",
                                              bolt_attrs, status="retired", merged_into_id=materials["ss_bolt"].id)
    await add_offer(session, supplier_a, materials["ss_bolt"], "SA-BOLT-M8-30", ["1.20", "0.95"], stock="500")
    await add_offer(session, supplier_b, materials["ss_bolt"], "B-77881", ["1.10"], lead_time_days=3)
    await add_offer(session, supplier_a, materials["cs_bolt"], "SA-BOLT-M10-40", ["2.50"], lead_time_days=2)
    await add_offer(session, supplier_b, materials["bearing"], "B-6204-2RS", ["35.00"], lead_time_days=10, stock="20")
    return World(supplier_a, supplier_b, materials)
