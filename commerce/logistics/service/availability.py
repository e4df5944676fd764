"""Stock availability for the catalogue: what a supplier has free (on hand less reserved) per site becomes
the stock its offers show (``catalog.service.offers.set_stock``). The catalogue never reads logistics: after a
stock change logistics pushes the new figure through the catalogue's own service, in the same transaction."""

import uuid
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.service.offers import list_own_offers, set_stock
from commerce.logistics.models import StockBalance, Warehouse
from tradeloom.audit import Actor

MAX_OFFERS_PER_MATERIAL = 50


async def free_by_site(session: AsyncSession, *, material_id: uuid.UUID) -> dict[uuid.UUID, Decimal]:
    """The caller's free stock of a material per site (all warehouses of the site added up)."""
    query = (select(Warehouse.site_id, func.sum(StockBalance.on_hand - StockBalance.reserved))
             .join(Warehouse, Warehouse.id == StockBalance.warehouse_id)
             .where(StockBalance.material_id == material_id).group_by(Warehouse.site_id))
    return {site_id: total for site_id, total in (await session.execute(query)).all()}


async def publish(session: AsyncSession, *, actor: Actor, material_ids: Iterable[uuid.UUID]) -> None:
    """Refresh the stock figures of the actor's offers of these materials (no offers: nothing to do)."""
    for material_id in set(material_ids):
        offers, _ = await list_own_offers(session, actor=actor, limit=MAX_OFFERS_PER_MATERIAL, cursor=None,
                                          material_id=material_id)
        if not offers:
            continue
        for site_id, free in (await free_by_site(session, material_id=material_id)).items():
            for offer in offers:
                await set_stock(session, actor=actor, offer_id=offer.id, site_id=site_id,
                                quantity=max(free, Decimal(0)))
