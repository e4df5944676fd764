"""EDI test setup: an order world whose buyer has an EDI partner, and the fixture interchanges filled in."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import SupplierOffer
from integrations.edi import service as edi_service
from integrations.edi.models import EdiPartner
from tests.materials_factories import act_as, as_owner, make_material, make_offer, owner_actor
from tests.orders_factories import OrderWorld, make_world

MESSAGES = Path(__file__).parent / "edi_messages"
GTIN = "4006381333931"


@dataclass(frozen=True)
class EdiWorld:
    world: OrderWorld
    offer: SupplierOffer
    partner: dict[str, Any]

    def fixture(self, name: str, **replacements: str) -> str:
        """A fixture interchange with the world's codes in place of its {placeholders}."""
        values = {"buyer_uscc": self.world.buyer.org.uscc, "supplier_uscc": self.world.supplier.org.uscc,
                  "material_code": self.world.bolt.code, "supplier_part_number": self.offer.supplier_part_number,
                  "gtin": GTIN} | replacements
        return (MESSAGES / name).read_text(encoding="utf-8").format_map(values)


def partner_body(world: OrderWorld, **overrides: Any) -> dict[str, Any]:
    return {"name": "SAP S/4HANA 苏州", "partner_id": "4012345000009", "partner_qualifier": "14",
            "our_id": "TRADELOOM", "our_qualifier": "ZZZ", "syntax_version": "D96A",
            "messages": ["ORDERS", "ORDRSP", "DESADV", "INVOIC"], "delivery_site_id": str(world.site_id)} | overrides


async def add_partner(session: AsyncSession, world: OrderWorld) -> EdiPartner:
    """The buyer's partner set up through the service (for committed setups, where no test client runs)."""
    body = partner_body(world)
    fields = edi_service.PartnerFields(**{k: v for k, v in body.items() if k not in ("messages", "delivery_site_id")},
                                       messages=tuple(body["messages"]), delivery_site_id=world.site_id)
    await act_as(session, world.admin)
    partner = await edi_service.create_partner(session, actor=owner_actor(world.admin), fields=fields)
    await as_owner(session)
    return partner


def unknown_material_orders(world: OrderWorld) -> str:
    """The D.01B fixture (line 2 names no material) for a world."""
    return (MESSAGES / "orders_d01b_unknown_material.edi").read_text(encoding="utf-8").format_map(
        {"supplier_uscc": world.supplier.org.uscc, "material_code": world.bolt.code})


async def make_edi_world(session: AsyncSession, client: AsyncClient) -> EdiWorld:
    """A buyer whose ERP is an EDI partner, a GTIN-coded bolt with the supplier's offer (12.00 / 10.50 a box)."""
    world = await make_world(session)
    bolt = await make_material(session, world.supplier, gtin=GTIN, name_en="Hex bolt M10", name_zh="六角螺栓 M10",
                               attributes={"thread": "M10", "length_mm": "40", "material": "SS304"})
    offer = await make_offer(session, world.supplier, bolt.id)
    world = OrderWorld(**{**world.__dict__, "bolt": bolt})
    response = await client.post("/api/v1/edi/partners", json=partner_body(world), headers=world.admin.headers)
    assert response.status_code == 201, response.text
    return EdiWorld(world, offer, response.json())


async def upload(client: AsyncClient, edi: EdiWorld, text: str) -> Any:
    return await client.post("/api/v1/edi/interchanges", content=text.encode(),
                             headers=edi.world.buyer.headers | {"Content-Type": "application/EDIFACT"})
