"""Demo purchase orders: East China Heavy Machinery (ecm) buys bolts from Ningbo Precision Fasteners (nbpf),
one order in every state, with ecm's approval rules (from 10,000 CNY one approver, above 50,000 two).

Run by ``tradeloom seed-demo`` after the demo world; idempotent (does nothing once ecm has orders). Every
step goes through the order services as the party whose step it is, so the timeline, outbox, audit and
evidence of the demo orders are what real use would have written.
"""

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.schemas.materials import MaterialCreate, MaterialStatus
from catalog.schemas.offers import OfferCreate
from catalog.service import lifecycle, materials, offers
from commerce.orders.models import OrderLine, PurchaseOrder
from commerce.orders.rules import OrderSource, SimpleStep, TaxRate
from commerce.orders.schemas import ApprovalRuleIn
from commerce.orders.service import budgets, create, transitions
from commerce.orders.service.create import OrderLineDraft, OrderTerms
from commerce.orders.service.transitions import LineConfirmationDraft
from tradeloom.audit import Actor
from tradeloom.db import apply_tenant
from tradeloom.seed import DemoWorld
from tradeloom.sites.service import list_sites


@dataclass(frozen=True)
class _Cast:
    buyer: Actor
    approver: Actor
    buyer_warehouse: Actor
    sales: Actor
    supplier_warehouse: Actor


# (boxes, then the steps after placing; "partial" confirms half of the first line)
_STORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("40", ()), ("6000", ("submit",)), ("60", ("submit",)), ("80", ("submit", "confirm")),
    ("100", ("submit", "partial")), ("20", ("submit", "reject")), ("120", ("submit", "confirm", "start-production")),
    ("140", ("submit", "confirm", "start-production", "ship-partially")),
    ("160", ("submit", "confirm", "ship")), ("180", ("submit", "confirm", "ship", "receive")),
    ("200", ("submit", "confirm", "ship", "receive", "close")), ("30", ("submit", "cancel")),
)


async def _act(session: AsyncSession, actor: Actor) -> None:
    await apply_tenant(session, org_id=actor.org_id, user_id=actor.user_id)


async def _demo_bolt(session: AsyncSession, sales: Actor) -> uuid.UUID:
    """nbpf's hex bolt with an offer in boxes of 100 (created once)."""
    await _act(session, sales)
    found, _ = await materials.list_materials(session, limit=1, cursor=None, status=MaterialStatus.ACTIVE,
                                              owner_org_id=sales.org_id)
    if found:
        return found[0].id
    material = await materials.create_material(session, actor=sales, fields=MaterialCreate(
        class_code="100101", name_zh="六角头螺栓 M12×60 合金钢", name_en="Hex head bolt M12×60 alloy steel",
        attributes={"thread": "M12", "length_mm": "60", "material": "alloy steel"}, base_unit="H87",
        pack_sizes={"BX": Decimal(100)}))
    await lifecycle.change_status(session, actor=sales, material_id=material.id, expected_version=material.version,
                                  status=MaterialStatus.ACTIVE)
    await offers.create_offer(session, actor=sales, fields=OfferCreate.model_validate({
        "material_id": material.id, "supplier_part_number": "NB-HB-M12-60", "currency": "CNY", "order_unit": "BX",
        "moq": "2", "pack_size": "2", "lead_time_days": 7, "incoterm": "FCA",
        "valid_from": dt.date(2026, 1, 1), "valid_to": dt.date(2027, 12, 31),
        "price_tiers": [{"min_quantity": "2", "unit_price": "95.00"}, {"min_quantity": "100", "unit_price": "88.50"}],
    }))
    return material.id


async def _step(session: AsyncSession, cast: _Cast, order: PurchaseOrder, step: str) -> PurchaseOrder:
    actor = {"submit": cast.buyer, "cancel": cast.buyer, "receive": cast.buyer_warehouse, "close": cast.buyer,
             "ship": cast.supplier_warehouse, "ship-partially": cast.supplier_warehouse}.get(step, cast.sales)
    await _act(session, actor)
    order_id, version = order.id, order.version
    if step == "partial":
        (line,) = (await session.scalars(select(OrderLine).where(OrderLine.order_id == order_id))).all()
        half = LineConfirmationDraft(line.id, line.quantity / 2, dt.date(2026, 12, 20))
        return await transitions.confirm_order(session, actor=actor, order_id=order_id, expected_version=version,
                                               lines=[half], note="半数下周交付")
    if step == "confirm":
        return await transitions.confirm_order(session, actor=actor, order_id=order_id, expected_version=version)
    named = {"submit": transitions.submit_order, "reject": transitions.reject_order,
             "cancel": transitions.cancel_order}
    if step in named:
        return await named[step](session, actor=actor, order_id=order_id, expected_version=version)
    return await transitions.advance_order(session, actor=actor, order_id=order_id, expected_version=version,
                                           action=SimpleStep(step))


async def seed_orders(session: AsyncSession, world: DemoWorld) -> None:
    """ecm's rules and one order in every state (runs as the database owner; acts as each party in turn)."""
    buyer_org, supplier_org = world.organizations["ecm"], world.organizations["nbpf"]
    if await session.scalar(select(PurchaseOrder.id).where(PurchaseOrder.buyer_org_id == buyer_org).limit(1)):
        return
    cast = _Cast(*(Actor(org_id=org, user_id=world.users[key]) for org, key in (
        (buyer_org, "ecm.buyer"), (buyer_org, "ecm.approver"), (buyer_org, "ecm.warehouse"),
        (supplier_org, "nbpf.sales"), (supplier_org, "nbpf.warehouse"))))
    bolt_id = await _demo_bolt(session, cast.sales)
    admin = Actor(org_id=buyer_org, user_id=world.users["ecm.admin"])
    await _act(session, admin)
    for minimum, approvals in (("10000", 1), ("50000", 2)):
        await budgets.create_rule(session, actor=admin, fields=ApprovalRuleIn(
            name=f"≥ {minimum} CNY", currency="CNY", min_amount=Decimal(minimum), approvals_required=approvals))
    sites, _ = await list_sites(session, limit=1, cursor=None)
    for index, (boxes, steps) in enumerate(_STORIES):
        await _act(session, cast.buyer)
        order = await create.create_order(
            session, actor=cast.buyer, supplier_org_id=supplier_org, delivery_site_id=sites[0].id, currency="CNY",
            source=OrderSource.CALL_OFF if index % 2 else OrderSource.AWARD, reference=f"DEMO-{index + 1:03d}",
            terms=OrderTerms(payment_terms="月结 30 天", requested_date=dt.date(2026, 12, 15)),
            lines=[OrderLineDraft(material_id=bolt_id, quantity=Decimal(boxes), unit="BX",
                                  unit_price=Decimal("9.50"), tax_rate=TaxRate.STANDARD)])
        for step in steps:
            order = await _step(session, cast, order, step)
    await session.execute(text("RESET ROLE"))
