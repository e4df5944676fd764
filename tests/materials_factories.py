"""Factories for the catalogue's materials, offers and price lists: made through the services as the app role,
then back to the database owner so that tests can go on setting up."""

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Material, PriceList, SupplierOffer
from catalog.schemas.materials import MaterialCreate, MaterialStatus
from catalog.schemas.offers import OfferCreate
from catalog.schemas.prices import PriceListCreate
from catalog.service import lifecycle, materials, offers, price_lists
from tests.factories import Member
from tradeloom.audit import Actor
from tradeloom.db import apply_tenant

DAY = dt.date(2026, 11, 25)


async def act_as(session: AsyncSession, member: Member) -> None:
    """Run what follows as the app role for the member's organization (RLS applies)."""
    await apply_tenant(session, org_id=member.org.id, user_id=member.user.id)


async def as_owner(session: AsyncSession) -> None:
    """Back to the database owner (setup that RLS would refuse, e.g. new organizations)."""
    await session.execute(text("RESET ROLE"))


def bolt_body(**overrides: Any) -> dict[str, Any]:
    """A valid hex head bolt (class 100101), counted in pieces, boxes of 100."""
    return {
        "class_code": "100101", "name_zh": "六角头螺栓 M8×40 SS304", "name_en": "Hex head bolt M8×40 SS304",
        "attributes": {"thread": "M8", "length_mm": "40", "material": "SS304"},
        "base_unit": "H87", "pack_sizes": {"BX": "100"},
    } | overrides


async def make_material(
    session: AsyncSession, owner: Member, *, status: MaterialStatus = MaterialStatus.ACTIVE, **overrides: Any
) -> Material:
    await act_as(session, owner)
    material = await materials.create_material(
        session, actor=owner_actor(owner), fields=MaterialCreate.model_validate(bolt_body(**overrides))
    )
    if status is not MaterialStatus.DRAFT:
        await lifecycle.change_status(session, actor=owner_actor(owner), material_id=material.id,
                                      expected_version=material.version, status=MaterialStatus.ACTIVE)
    if status in (MaterialStatus.BLOCKED, MaterialStatus.RETIRED):
        await lifecycle.change_status(session, actor=owner_actor(owner), material_id=material.id,
                                      expected_version=material.version, status=status)
    await as_owner(session)
    return material


def owner_actor(member: Member) -> Actor:
    return Actor(org_id=member.org.id, user_id=member.user.id)


def offer_body(material_id: uuid.UUID, **overrides: Any) -> dict[str, Any]:
    """Boxes of 100 bolts, MOQ 2 boxes, packs of 2 boxes; 12.00 / 10.50 / 9.00 CNY a box."""
    return {
        "material_id": str(material_id), "supplier_part_number": f"HB-{uuid.uuid4().hex[:8]}", "currency": "CNY",
        "order_unit": "BX", "moq": "2", "pack_size": "2", "lead_time_days": 5, "incoterm": "FCA",
        "valid_from": "2026-01-01", "valid_to": "2026-12-31",
        "price_tiers": [{"min_quantity": "2", "unit_price": "12.00"}, {"min_quantity": "10", "unit_price": "10.50"},
                        {"min_quantity": "50", "unit_price": "9.00"}],
    } | overrides


async def make_offer(session: AsyncSession, supplier: Member, material_id: uuid.UUID, **overrides: Any
                     ) -> SupplierOffer:
    await act_as(session, supplier)
    fields = OfferCreate.model_validate(offer_body(material_id, **overrides))
    offer = await offers.create_offer(session, actor=owner_actor(supplier), fields=fields)
    await as_owner(session)
    return offer


def price_list_body(buyer_org_id: uuid.UUID, material_id: uuid.UUID, **overrides: Any) -> dict[str, Any]:
    """0.10 CNY a bolt from 0, 0.08 from 1,000 bolts."""
    return {
        "buyer_org_id": str(buyer_org_id), "name": "2026 framework prices", "kind": "customer", "currency": "CNY",
        "valid_from": "2026-01-01", "valid_to": None,
        "lines": [{"material_id": str(material_id), "min_quantity": "0", "unit_price": "0.10"},
                  {"material_id": str(material_id), "min_quantity": "1000", "unit_price": "0.08"}],
    } | overrides


async def make_price_list(session: AsyncSession, supplier: Member, buyer_org_id: uuid.UUID,
                          material_id: uuid.UUID, **overrides: Any) -> PriceList:
    await act_as(session, supplier)
    fields = PriceListCreate.model_validate(price_list_body(buyer_org_id, material_id, **overrides))
    price_list = await price_lists.create_price_list(session, actor=owner_actor(supplier), fields=fields)
    await as_owner(session)
    return price_list
