"""Supplier offers: the supplier manages its own; everyone reads them."""

import uuid

from fastapi import Response

from catalog.api.common import PREFIX, OfferManager, Reader
from catalog.models import SupplierOffer
from catalog.schemas.offers import OfferCreate, OfferOut, OfferPage, OfferUpdate, PriceTierOut, StockIn, StockOut
from catalog.service import offers
from catalog.service.offers import OfferView
from tradeloom.concurrency import ExpectedVersion, set_etag
from tradeloom.idempotency import Idempotent
from tradeloom.pagination import Cursor, PageSize
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix=f"{PREFIX}/offers", tags=["catalog offers"], route_class=TransactionalRoute)


def _out(view: OfferView) -> OfferOut:
    fields = {name: getattr(view.offer, name) for name in OfferOut.model_fields if name not in ("price_tiers", "stock")}
    return OfferOut(**fields, price_tiers=[PriceTierOut.model_validate(t) for t in view.price_tiers],
                    stock=[StockOut.model_validate(s) for s in view.stock])


async def _answer(session: DbSession, response: Response, offer: SupplierOffer) -> OfferOut:
    (view,) = await offers.offer_views(session, [offer])
    set_etag(response, offer.version)
    return _out(view)


@router.post("", status_code=201)
async def create_offer(
    body: OfferCreate, principal: OfferManager, session: DbSession, response: Response, _key: Idempotent
) -> OfferOut:
    """Publish an offer for an active material (suppliers only)."""
    offer = await offers.create_offer(session, actor=principal.actor, fields=body)
    response.headers["Location"] = f"{router.prefix}/{offer.id}"
    return await _answer(session, response, offer)


@router.get("")
async def list_own_offers(
    principal: OfferManager, session: DbSession, limit: PageSize = 50, cursor: Cursor = None,
    material_id: uuid.UUID | None = None,
) -> OfferPage:
    """Your organization's offers, ordered by part number."""
    found, next_cursor = await offers.list_own_offers(
        session, actor=principal.actor, limit=limit, cursor=cursor, material_id=material_id
    )
    return OfferPage(items=[_out(view) for view in await offers.offer_views(session, found)], next_cursor=next_cursor)


@router.get("/{offer_id}")
async def get_offer(offer_id: uuid.UUID, principal: Reader, session: DbSession, response: Response) -> OfferOut:
    """One offer with its price breaks and stock; its version as ETag."""
    return await _answer(session, response, await offers.get_offer(session, offer_id=offer_id))


@router.patch("/{offer_id}")
async def update_offer(
    offer_id: uuid.UUID, body: OfferUpdate, principal: OfferManager, session: DbSession, response: Response,
    expected_version: ExpectedVersion,
) -> OfferOut:
    """Change your offer (If-Match); ``price_tiers`` replaces every price break."""
    offer = await offers.update_offer(session, actor=principal.actor, offer_id=offer_id,
                                      expected_version=expected_version, changes=body)
    return await _answer(session, response, offer)


@router.delete("/{offer_id}")
async def withdraw_offer(
    offer_id: uuid.UUID, principal: OfferManager, session: DbSession, response: Response,
    expected_version: ExpectedVersion,
) -> OfferOut:
    """Withdraw your offer (kept, with status withdrawn, for the documents that refer to it)."""
    offer = await offers.withdraw_offer(session, actor=principal.actor, offer_id=offer_id,
                                        expected_version=expected_version)
    return await _answer(session, response, offer)


@router.put("/{offer_id}/stock/{site_id}")
async def set_stock(
    offer_id: uuid.UUID, site_id: uuid.UUID, body: StockIn, principal: OfferManager, session: DbSession
) -> StockOut:
    """Set the quantity available for your offer at one of your sites (≥ 0, in the order unit)."""
    stock = await offers.set_stock(session, actor=principal.actor, offer_id=offer_id, site_id=site_id,
                                   quantity=body.quantity)
    return StockOut.model_validate(stock)
