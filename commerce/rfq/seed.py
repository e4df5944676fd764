"""Demo RFQs for the demo world: one open for quotations, one closed awaiting award, one awarded.

Builds on ``tradeloom.seed.DemoWorld`` with a small demo catalogue: two fasteners offered by the Ningbo and
Changzhou suppliers (also used by ``commerce.contracts.seed``). Idempotent: a title already present is
skipped. Runs as the database owner, like the rest of the demo seed; closing a quotation window is done by
moving the deadline into the past, since demo data cannot wait for a clock.
"""

import datetime as dt
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Material
from catalog.schemas.materials import MaterialCreate, MaterialStatus
from catalog.schemas.offers import OfferCreate
from catalog.service import lifecycle, materials, offers
from commerce.rfq.models import Quotation, QuotationLine, Rfq
from commerce.rfq.schemas import AwardIn, QuotationIn, RfqCreate
from commerce.rfq.service.award import award_rfq
from commerce.rfq.service.quotations import submit_quotation
from commerce.rfq.service.requests import create_rfq
from tradeloom.audit import Actor
from tradeloom.db import utcnow
from tradeloom.seed import DemoWorld
from tradeloom.sites.models import Site

DEMO_MATERIALS = (  # (name_zh, name_en, thread, length_mm)
    ("六角头螺栓 M8×40 SS304", "Hex head bolt M8×40 SS304", "M8", "40"),
    ("六角头螺栓 M10×50 SS304", "Hex head bolt M10×50 SS304", "M10", "50"),
)
TITLES = ("螺栓年度补货（报价中）", "M10 螺栓试产批（待定标）", "M8 螺栓季度采购（已定标）")


async def demo_materials(session: AsyncSession, world: DemoWorld) -> list[Material]:
    """The demo fasteners (owned by the Ningbo supplier), active and offered by two suppliers."""
    owner = Actor(org_id=world.organizations["nbpf"], user_id=world.users["nbpf.sales"])
    found = []
    for name_zh, name_en, thread, length in DEMO_MATERIALS:
        material = await session.scalar(select(Material).where(Material.name_en == name_en))
        if material is None:
            material = await materials.create_material(session, actor=owner, fields=MaterialCreate(
                class_code="100101", name_zh=name_zh, name_en=name_en, base_unit="H87",
                pack_sizes={"BX": Decimal(100)},
                attributes={"thread": thread, "length_mm": length, "material": "SS304"}))
            await lifecycle.change_status(session, actor=owner, material_id=material.id,
                                          expected_version=material.version, status=MaterialStatus.ACTIVE)
            for key, price in (("nbpf", "12.00"), ("czxd", "12.60")):
                seller = Actor(org_id=world.organizations[key], user_id=world.users[f"{key}.sales"])
                await offers.create_offer(session, actor=seller, fields=OfferCreate.model_validate({
                    "material_id": str(material.id), "supplier_part_number": f"{key.upper()}-{thread}-{length}",
                    "currency": "CNY", "order_unit": "BX", "moq": "1", "pack_size": "1", "lead_time_days": 5,
                    "incoterm": "FCA", "valid_from": "2026-01-01",
                    "price_tiers": [{"min_quantity": "1", "unit_price": price}]}))
        found.append(material)
    return found


async def _close(session: AsyncSession, rfq: Rfq) -> None:
    past, rfq_id = utcnow() - dt.timedelta(hours=1), rfq.id
    await session.execute(update(Rfq).where(Rfq.id == rfq_id).values(deadline=past))
    await session.execute(update(Quotation).where(Quotation.rfq_id == rfq_id).values(sealed_until=past))
    await session.execute(update(QuotationLine).where(QuotationLine.quotation_id.in_(
        select(Quotation.id).where(Quotation.rfq_id == rfq_id))).values(sealed_until=past))
    await session.refresh(rfq)


async def seed_rfqs(session: AsyncSession, world: DemoWorld) -> None:
    """Three RFQs of the East China buyer, in three states."""
    if await session.scalar(select(Rfq.id).where(Rfq.title.in_(TITLES))):
        return
    bolts = await demo_materials(session, world)
    buyer = Actor(org_id=world.organizations["ecm"], user_id=world.users["ecm.buyer"])
    plant = await session.scalar(select(Site.id).where(Site.org_id == buyer.org_id, Site.code == "MAIN"))
    sellers = [Actor(org_id=world.organizations[key], user_id=world.users[f"{key}.sales"]) for key in ("nbpf", "czxd")]
    for index, title in enumerate(TITLES):
        bolt = bolts[index % len(bolts)]
        view = await create_rfq(session, actor=buyer, fields=RfqCreate.model_validate({
            "title": title, "currency": "CNY", "delivery_site_id": str(plant), "terms": "FCA 宁波，月结 30 天",
            "deadline": (utcnow() + dt.timedelta(days=3)).isoformat(), "visibility": "open",
            "lines": [{"material_id": str(bolt.id), "quantity": "20000", "unit": "H87",
                       "required_date": (utcnow() + dt.timedelta(days=30)).date().isoformat()}]}))
        for seller, price in zip(sellers, ("11.80", "12.20"), strict=True):
            await submit_quotation(session, actor=seller, rfq_id=view.rfq.id, fields=QuotationIn.model_validate({
                "currency": "CNY", "valid_until": (utcnow() + dt.timedelta(days=60)).date().isoformat(),
                "freight": "200", "lines": [{"rfq_line_id": str(view.lines[0].id), "unit": "BX", "lead_time_days": 6,
                                             "price_tiers": [{"min_quantity": "0", "unit_price": price}]}]}))
        if index == 0:
            continue
        await _close(session, view.rfq)
        if index == 2:
            winner = await session.scalar(select(QuotationLine.id).join(Quotation).where(
                Quotation.rfq_id == view.rfq.id, Quotation.org_id == sellers[0].org_id))
            await award_rfq(session, actor=buyer, rfq_id=view.rfq.id, expected_version=1, placer=None,
                            fields=AwardIn.model_validate({"outcome": "contract", "lines": [
                                {"quotation_line_id": str(winner), "quantity": "20000"}]}))
