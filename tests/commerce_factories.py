"""Factories for RFQs and contracts: a buyer with a plant, suppliers with offers, deadlines passed on demand.

Setup runs through the services as the app role (``act_as``) and returns to the owner (``as_owner``).
"""

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Material
from commerce.order_port import OrderLineDraft, OrderSource
from commerce.rfq.models import Quotation, QuotationLine, Rfq
from tests.factories import Member, make_member, site_body
from tests.materials_factories import act_as, as_owner, make_material, make_offer, owner_actor
from tradeloom.audit import Actor
from tradeloom.db import utcnow
from tradeloom.identity.roles import OrgKind, Role
from tradeloom.sites.schemas import SiteCreate
from tradeloom.sites.service import create_site


@dataclass
class Market:
    """A buyer with a plant, three suppliers, and a bolt the first two offer (boxes of 100)."""

    buyer: Member
    plant_id: uuid.UUID
    suppliers: list[Member]
    bolt: Material


async def make_site(session: AsyncSession, member: Member, code: str = "PLANT-1") -> uuid.UUID:
    await act_as(session, member)
    site = await create_site(session, actor=owner_actor(member), fields=SiteCreate.model_validate(site_body(code)))
    await as_owner(session)
    return site.id


async def make_market(session: AsyncSession) -> Market:
    buyer = await make_member(session, roles=(Role.BUYER, Role.APPROVER), kind=OrgKind.BUYER)
    suppliers = [await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER) for _ in range(3)]
    bolt = await make_material(session, suppliers[0])
    await make_offer(session, suppliers[0], bolt.id, valid_from="2026-01-01", valid_to=None)
    await make_offer(session, suppliers[1], bolt.id, valid_from="2026-01-01", valid_to=None, lead_time_days=2,
                     price_tiers=[{"min_quantity": "2", "unit_price": "11.00"}])
    return Market(buyer, await make_site(session, buyer), suppliers, bolt)


def rfq_body(market: Market, **overrides: Any) -> dict[str, Any]:
    """5,000 bolts (pieces) by the end of next month; quotes due tomorrow."""
    return {
        "title": "M8 bolts Q1", "currency": "CNY", "delivery_site_id": str(market.plant_id),
        "deadline": (utcnow() + dt.timedelta(days=1)).isoformat(), "terms": "FCA Suzhou, 30 days net",
        "visibility": "invited", "supplier_org_ids": [str(s.org.id) for s in market.suppliers[:2]],
        "lines": [{"material_id": str(market.bolt.id), "quantity": "5000", "unit": "H87",
                   "required_date": (utcnow() + dt.timedelta(days=40)).date().isoformat()}],
    } | overrides


def quotation_body(rfq: dict[str, Any], price: str = "9.50", unit: str = "BX", **overrides: Any) -> dict[str, Any]:
    """A price per box for every line of the RFQ (as returned by the API)."""
    return {
        "currency": "CNY", "valid_until": (utcnow() + dt.timedelta(days=30)).date().isoformat(), "freight": "120",
        "lines": [{"rfq_line_id": line["id"], "unit": unit, "lead_time_days": 7,
                   "price_tiers": [{"min_quantity": "0", "unit_price": price}]} for line in rfq["lines"]],
    } | overrides


async def close_bidding(session: AsyncSession, rfq_id: uuid.UUID | str) -> None:
    """Move the deadline into the past (the test's transaction clock stands still, so time cannot just pass)."""
    await as_owner(session)
    for statement in ("UPDATE rfqs SET deadline = now() - interval '1 minute' WHERE id = :id",
                      "UPDATE quotations SET sealed_until = now() - interval '1 minute' WHERE rfq_id = :id",
                      "UPDATE quotation_lines SET sealed_until = now() - interval '1 minute' WHERE quotation_id IN "
                      "(SELECT id FROM quotations WHERE rfq_id = :id)"):
        await session.execute(text(statement), {"id": str(rfq_id)})
    for loaded in list(session.identity_map.values()):  # what this session already loaded sees the new deadline
        if isinstance(loaded, Rfq | Quotation | QuotationLine):
            session.expire(loaded)


@dataclass
class RecordingOrderPlacer:
    """A fake of the OrderPlacer port: records each call and answers with a new order id."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    @dataclass(frozen=True)
    class Placed:
        id: uuid.UUID

    async def create_order(
        self, session: AsyncSession, *, actor: Actor, supplier_org_id: uuid.UUID, delivery_site_id: uuid.UUID,
        currency: str, lines: list[OrderLineDraft], source: OrderSource, reference: str,
    ) -> "RecordingOrderPlacer.Placed":
        placed = self.Placed(uuid.uuid4())
        self.calls.append({"supplier_org_id": supplier_org_id, "delivery_site_id": delivery_site_id,
                           "currency": currency, "lines": lines, "source": source, "reference": reference,
                           "order_id": placed.id})
        return placed


def framework_body(market: Market, **overrides: Any) -> dict[str, Any]:
    """A year's framework for bolts at 0.09 CNY a piece, at most 10,000 pieces and 1,000 CNY."""
    today = utcnow().date()
    return {
        "supplier_org_id": str(market.suppliers[0].org.id), "kind": "framework", "currency": "CNY",
        "title": "Fasteners framework 2026", "valid_from": today.isoformat(),
        "valid_to": (today + dt.timedelta(days=365)).isoformat(), "value_cap": "1000",
        "terms_text": "Delivery FCA Suzhou within 5 days of each call-off.",
        "items": [{"material_id": str(market.bolt.id), "unit_price": "0.09", "quantity_cap": "10000"}],
    } | overrides


PIECE_PRICE = Decimal("0.09")
