"""A framework's prices become the buyer's ``contract`` price list in the catalogue, so the price engine uses
them (contract prices win over customer prices and offers).

A price list belongs to the supplier (its ``org_id``), and row-level security lets only the supplier write
it. The contract takes effect in the transaction of whichever party signs last; when that is the buyer, the
platform publishes on the supplier's behalf — it signed these very prices — by switching the transaction to
the supplier's tenant for this step only, then back.
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.schemas.prices import PriceListCreate, PriceListKind, PriceListLineIn, PriceListUpdate
from catalog.service.price_lists import create_price_list, get_price_list, update_price_list
from commerce.contracts.models import Contract, ContractItem
from tradeloom.audit import Actor
from tradeloom.db import apply_tenant

_CONTEXT = text("SELECT current_setting('role'), current_setting('app.org_id', true), "
                "current_setting('app.user_id', true), current_setting('app.platform_admin', true)")
_RESTORE = text("SELECT set_config('role', :role, true), set_config('app.org_id', :org_id, true), "
                "set_config('app.user_id', :user_id, true), set_config('app.platform_admin', :admin, true)")


@asynccontextmanager
async def acting_for(session: AsyncSession, org_id: uuid.UUID) -> AsyncIterator[Actor]:
    """Run the block as the app role for ``org_id`` (the platform acting for it), then restore the caller."""
    await session.flush()
    role, current_org, user, admin = (await session.execute(_CONTEXT)).one()
    await apply_tenant(session, org_id=org_id)
    try:
        yield Actor(org_id=org_id)
    finally:
        await session.flush()
        await session.execute(_RESTORE, {"role": role, "org_id": current_org or "", "user_id": user or "",
                                         "admin": admin or ""})


async def publish_prices(session: AsyncSession, contract: Contract, items: list[ContractItem]) -> None:
    """Create or replace the framework's price list with the items in force."""
    lines = [PriceListLineIn(material_id=item.material_id, unit_price=item.unit_price) for item in items]
    reference = f"contract:{contract.number}"
    async with acting_for(session, contract.supplier_org_id) as supplier:
        if contract.price_list_id is None:
            price_list = await create_price_list(session, actor=supplier, fields=PriceListCreate(
                buyer_org_id=contract.org_id, name=contract.title[:200], kind=PriceListKind.CONTRACT,
                currency=contract.currency, valid_from=contract.valid_from, valid_to=contract.valid_to,
                reference=reference, lines=lines))
        else:
            current = await get_price_list(session, price_list_id=contract.price_list_id)
            price_list = await update_price_list(
                session, actor=supplier, price_list_id=current.id, expected_version=current.version,
                changes=PriceListUpdate(name=contract.title[:200], valid_from=contract.valid_from,
                                        valid_to=contract.valid_to, reference=reference, lines=lines))
        price_list_id = price_list.id
    contract.price_list_id = price_list_id
