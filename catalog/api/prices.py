"""Price lists (supplier grants, buyer reads), the price query and the supplier comparison."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import Query, Response

from catalog.api.common import PREFIX, OfferManager, Reader
from catalog.models import PriceList
from catalog.schemas.common import UnitCode
from catalog.schemas.prices import (
    ComparisonOut,
    PriceListCreate,
    PriceListLineOut,
    PriceListOut,
    PriceListPage,
    PriceListSummary,
    PriceListUpdate,
    PriceQuoteOut,
)
from catalog.service import price_lists, pricing
from tradeloom.concurrency import ExpectedVersion, set_etag
from tradeloom.idempotency import Idempotent
from tradeloom.pagination import Cursor, PageSize
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix=PREFIX, tags=["catalog prices"], route_class=TransactionalRoute)

RequestedQuantity = Annotated[Decimal, Query(gt=0, max_digits=24, decimal_places=6, description="e.g. 250")]
RequestedUnit = Annotated[UnitCode, Query(description="unit of the quantity, e.g. H87, BX, KGM")]
OnDate = Annotated[dt.date | None, Query(description="the day the price must be valid (default: today, UTC)")]


def _today(on_date: dt.date | None) -> dt.date:
    return on_date or dt.datetime.now(dt.UTC).date()


async def _answer(session: DbSession, response: Response, price_list: PriceList) -> PriceListOut:
    lines = await price_lists.price_list_lines(session, price_list_id=price_list.id)
    set_etag(response, price_list.version)
    return PriceListOut(**PriceListSummary.model_validate(price_list).model_dump(), created_at=price_list.created_at,
                        reference=price_list.reference, lines=[PriceListLineOut.model_validate(li) for li in lines])


@router.post("/price-lists", status_code=201)
async def create_price_list(
    body: PriceListCreate, principal: OfferManager, session: DbSession, response: Response, _key: Idempotent
) -> PriceListOut:
    """Grant one buyer its own prices (customer or contract list); only you and that buyer see it."""
    price_list = await price_lists.create_price_list(session, actor=principal.actor, fields=body)
    response.headers["Location"] = f"{router.prefix}/price-lists/{price_list.id}"
    return await _answer(session, response, price_list)


@router.get("/price-lists")
async def list_price_lists(principal: Reader, session: DbSession, limit: PageSize = 50, cursor: Cursor = None
                           ) -> PriceListPage:
    """The price lists you grant (as supplier) or are granted (as buyer)."""
    found, next_cursor = await price_lists.list_price_lists(session, limit=limit, cursor=cursor)
    return PriceListPage(items=[PriceListSummary.model_validate(p) for p in found], next_cursor=next_cursor)


@router.get("/price-lists/{price_list_id}")
async def get_price_list(price_list_id: uuid.UUID, principal: Reader, session: DbSession, response: Response
                         ) -> PriceListOut:
    """A price list you are party to, with its lines."""
    return await _answer(session, response, await price_lists.get_price_list(session, price_list_id=price_list_id))


@router.patch("/price-lists/{price_list_id}")
async def update_price_list(
    price_list_id: uuid.UUID, body: PriceListUpdate, principal: OfferManager, session: DbSession,
    response: Response, expected_version: ExpectedVersion,
) -> PriceListOut:
    """Change a price list you grant (If-Match); ``lines`` replaces every line."""
    price_list = await price_lists.update_price_list(
        session, actor=principal.actor, price_list_id=price_list_id, expected_version=expected_version,
        changes=body,
    )
    return await _answer(session, response, price_list)


@router.get("/price")
async def price_query(
    principal: Reader, session: DbSession, material_id: uuid.UUID, quantity: RequestedQuantity,
    unit: RequestedUnit, supplier_org_id: uuid.UUID | None = None, on_date: OnDate = None,
) -> PriceQuoteOut:
    """What your organization pays for a quantity (from one supplier, or the best one), and which rule applied."""
    quote = await pricing.price_for(
        session, buyer_org_id=principal.org_id, material_id=material_id, quantity=quantity, unit=unit,
        on_date=_today(on_date), supplier_org_id=supplier_org_id,
    )
    return PriceQuoteOut.model_validate(quote)


@router.get("/materials/{material_id}/comparison")
async def compare_suppliers(
    material_id: uuid.UUID, principal: Reader, session: DbSession, quantity: RequestedQuantity,
    unit: RequestedUnit, on_date: OnDate = None,
) -> ComparisonOut:
    """Every supplier's quote for this quantity, ranked by unit price (per base unit), then lead time."""
    day = _today(on_date)
    quotes = await pricing.quotes_for(session, buyer_org_id=principal.org_id, material_id=material_id,
                                      quantity=quantity, unit=unit, on_date=day)
    return ComparisonOut(material_id=material_id, requested_quantity=quantity, requested_unit=unit, on_date=day,
                         quotes=[PriceQuoteOut.model_validate(quote) for quote in quotes])
