"""Demo contracts: a framework agreement for the demo fasteners, signed by both parties, with two call-offs.

Idempotent (a contract with the demo title is left alone). Signs with platform-kept keys, so it needs the
app secret the server will run with.
"""

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.contracts.models import Contract
from commerce.contracts.schemas import CallOffIn, ContractCreate
from commerce.contracts.service.call_offs import place_call_off
from commerce.contracts.service.lifecycle import create_contract
from commerce.contracts.service.signing import sign_contract
from commerce.rfq.seed import demo_materials
from tradeloom.audit import Actor
from tradeloom.db import utcnow
from tradeloom.seed import DemoWorld
from tradeloom.sites.models import Site

TITLE = "2026–2027 紧固件框架协议"


async def seed_contracts(session: AsyncSession, world: DemoWorld, *, secret: str) -> None:
    """The East China buyer's framework with the Ningbo supplier: effective, drawn down twice."""
    if await session.scalar(select(Contract.id).where(Contract.title == TITLE)):
        return
    bolts = await demo_materials(session, world)
    buyer = Actor(org_id=world.organizations["ecm"], user_id=world.users["ecm.approver"])
    supplier = Actor(org_id=world.organizations["nbpf"], user_id=world.users["nbpf.sales"])
    today = utcnow().date()
    view = await create_contract(session, actor=buyer, fields=ContractCreate.model_validate({
        "supplier_org_id": str(supplier.org_id), "kind": "framework", "currency": "CNY", "title": TITLE,
        "valid_from": today.isoformat(), "valid_to": (today + dt.timedelta(days=365)).isoformat(),
        "value_cap": "500000", "terms_text": "每次订货后 5 个工作日内 FCA 宁波交货；月结 30 天。",
        "items": [{"material_id": str(bolt.id), "unit_price": price, "quantity_cap": "2000000"}
                  for bolt, price in zip(bolts, ("0.112", "0.168"), strict=True)]}))
    contract_id = view.contract.id
    for party in (buyer, supplier):
        current = await session.get(Contract, contract_id)
        assert current is not None
        await sign_contract(session, actor=party, contract_id=contract_id, expected_version=current.version,
                            signature=None, secret=secret)
    plant = await session.scalar(select(Site.id).where(Site.org_id == buyer.org_id, Site.code == "MAIN"))
    for quantity in ("50000", "30000"):
        fields = CallOffIn.model_validate(
            {"delivery_site_id": str(plant), "lines": [{"material_id": str(bolts[0].id), "quantity": quantity}]})
        await place_call_off(session, actor=buyer, contract_id=contract_id, placer=None, fields=fields)
