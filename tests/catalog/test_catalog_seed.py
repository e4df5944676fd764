"""The demo catalogue: size, validity against the templates, prices, idempotency."""

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.attributes import validate_attributes
from catalog.classes import load_class_tree
from catalog.codes import check_material_code
from catalog.models import Material, OfferPriceTier, OfferStock, PriceList, SupplierOffer
from catalog.seed import seed_catalog
from catalog.service import pricing
from catalog.service.pricing import PriceRule
from tradeloom.db import apply_tenant
from tradeloom.outbox.models import OutboxEvent
from tradeloom.seed import seed_world


async def _count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_demo_catalogue_is_large_valid_priced_and_made_once(session: AsyncSession) -> None:
    # given the demo world
    world = await seed_world(session)
    # when the catalogue is seeded, twice
    first = await seed_catalog(session, world)
    second = await seed_catalog(session, world)
    # then the first run made 2,000+ materials, each with offers, and the second nothing
    assert first.materials >= 2000
    assert first.offers > first.materials
    assert first.price_lists == 5
    assert (second.materials, second.offers, second.price_lists) == (0, 0, 0)
    assert await _count(session, Material) == first.materials
    assert await _count(session, SupplierOffer) == first.offers
    assert await _count(session, OfferPriceTier) == 3 * first.offers
    assert await _count(session, OfferStock) == first.offers
    assert await _count(session, PriceList) == 5
    created = select(func.count()).where(OutboxEvent.topic == "material.created")
    assert await session.scalar(created) == first.materials
    # every material has a valid code, zh/en names and attributes that pass its class template
    tree = load_class_tree()
    for material in (await session.scalars(select(Material))).all():
        assert check_material_code(material.code) is None
        assert material.name_zh and material.name_en
        template = tree.classes[material.class_code].attributes
        assert validate_attributes(template, material.attributes) == [], material.code
    multi = select(SupplierOffer.material_id).group_by(SupplierOffer.material_id).having(func.count() > 1)
    assert len((await session.scalars(multi)).all()) > first.materials // 2
    # and a demo buyer is quoted its contract price (the demo world is slow to build: one test checks both)
    await _contract_price_applies(session, world.organizations["tjap"])


async def _contract_price_applies(session: AsyncSession, buyer_org_id: uuid.UUID) -> None:
    contract = await session.scalar(select(PriceList).where(PriceList.kind == "contract",
                                                            PriceList.buyer_org_id == buyer_org_id))
    assert contract is not None
    bearing = await session.scalar(select(Material.id).join(
        SupplierOffer, SupplierOffer.material_id == Material.id).where(
        SupplierOffer.org_id == contract.org_id, Material.class_code.like("11%")).order_by(Material.code).limit(1))
    assert bearing is not None
    await apply_tenant(session, org_id=buyer_org_id)
    quote = await pricing.price_for(session, buyer_org_id=buyer_org_id, material_id=bearing, quantity=Decimal(1),
                                    unit="H87", on_date=dt.date(2026, 11, 25), supplier_org_id=contract.org_id)
    assert (quote.rule, quote.price_list_id) == (PriceRule.CONTRACT, contract.id)
