"""Factories for purchase orders: a buyer organization with buyer and approvers, a supplier with sales staff,
a delivery site, a bolt offered by the supplier, and orders placed through the services."""

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Material
from commerce.orders.models import PurchaseOrder
from commerce.orders.rules import OrderSource, TaxRate
from commerce.orders.schemas import ApprovalRuleIn
from commerce.orders.service import budgets, create
from commerce.orders.service.create import OrderLineDraft, OrderTerms
from tests.factories import Member, make_member
from tests.materials_factories import act_as, as_owner, make_material, make_offer, owner_actor
from tradeloom.identity.roles import OrgKind, Role
from tradeloom.sites import service as sites
from tradeloom.sites.schemas import SiteCreate


@dataclass(frozen=True)
class OrderWorld:
    buyer: Member
    approver: Member
    second_approver: Member
    admin: Member
    supplier: Member
    other_supplier: Member
    site_id: uuid.UUID
    bolt: Material


async def make_site(session: AsyncSession, member: Member, code: str = "PLANT-1") -> uuid.UUID:
    await act_as(session, member)
    site = await sites.create_site(session, actor=owner_actor(member), fields=SiteCreate(
        code=code, kind="plant", name_zh="一号工厂", name_en="Plant one", province="江苏省", city="苏州市",
        address_line="工业园区星湖街 328 号"))
    await as_owner(session)
    return site.id


async def make_world(session: AsyncSession) -> OrderWorld:
    buyer = await make_member(session, roles=(Role.BUYER, Role.WAREHOUSE), kind=OrgKind.BUYER)
    org = buyer.org
    approver = await make_member(session, org=org, roles=(Role.APPROVER,))
    second_approver = await make_member(session, org=org, roles=(Role.APPROVER,))
    admin = await make_member(session, org=org, roles=(Role.ORG_ADMIN,))
    supplier = await make_member(session, roles=(Role.SUPPLIER_SALES, Role.WAREHOUSE), kind=OrgKind.SUPPLIER)
    other_supplier = await make_member(session, roles=(Role.SUPPLIER_SALES, Role.WAREHOUSE), kind=OrgKind.SUPPLIER)
    bolt = await make_material(session, supplier)
    await make_offer(session, supplier, bolt.id)
    return OrderWorld(buyer, approver, second_approver, admin, supplier, other_supplier,
                      await make_site(session, buyer), bolt)


def award_line(world: OrderWorld, quantity: str = "3", unit_price: str = "12.345", tax_rate: TaxRate = TaxRate.STANDARD,
               unit: str = "BX") -> OrderLineDraft:
    return OrderLineDraft(material_id=world.bolt.id, quantity=Decimal(quantity), unit=unit,
                          unit_price=Decimal(unit_price), tax_rate=tax_rate, requested_date=dt.date(2026, 12, 10))


async def place_order(session: AsyncSession, world: OrderWorld, *lines: OrderLineDraft, currency: str = "CNY",
                      cost_centre: str | None = None) -> PurchaseOrder:
    """A draft order from an award, placed by the world's buyer (session left as the buyer's tenant)."""
    await act_as(session, world.buyer)
    return await create.create_order(
        session, actor=owner_actor(world.buyer), supplier_org_id=world.supplier.org.id,
        delivery_site_id=world.site_id, currency=currency, lines=list(lines) or [award_line(world)],
        source=OrderSource.AWARD, reference="AWD-2026-0042", terms=OrderTerms(cost_centre=cost_centre),
    )


async def add_rule(session: AsyncSession, world: OrderWorld, *, min_amount: str, approvals: int,
                   currency: str = "CNY", class_prefix: str | None = None) -> None:
    await act_as(session, world.admin)
    await budgets.create_rule(session, actor=owner_actor(world.admin), fields=ApprovalRuleIn(
        name=f"from {min_amount}", currency=currency, min_amount=Decimal(min_amount), class_prefix=class_prefix,
        approvals_required=approvals))
