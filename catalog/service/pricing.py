"""The price engine: what a buyer pays a supplier for a quantity of a material on a date, and why.

Rules, in order:
1. Which price: a line of a **contract** price list the supplier granted this buyer, else a line of a
   **customer** price list, else the **price break** of the supplier's offer. Lists and offers count only
   when valid on the date (``valid_from ≤ date ≤ valid_to``) and offers only when active. Between lines of
   the same precedence the lowest price wins. Price-list lines are per base unit and apply from their
   ``min_quantity`` in base units; price breaks are per order unit.
2. How much: the requested quantity is converted exactly (``Fraction``) into the offer's order unit; an
   amount below the MOQ is raised to the MOQ, then rounded **up** to a whole number of packs. That order
   quantity selects the price break (the highest ``min_quantity`` not above it) and is what is billed.
   A supplier with a price list but no offer is quoted in the material's base unit, with no MOQ or packs.
3. Money: Decimal throughout; the unit price is exact, the line total is rounded half-up to 4 places
   (NUMERIC(18,4)). No currency conversion: quotes in different currencies are ranked within their currency.
Ranking (comparison, and the choice when no supplier is named): currency, then price per base unit, then
lead time, then supplier id for a stable order.
"""

import datetime as dt
import math
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction
from typing import NamedTuple

from sqlalchemy import ARRAY, ScalarSelect, any_, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from catalog.errors import InexactConversion, InvalidQuantity
from catalog.models import Material, OfferPriceTier, PriceList, PriceListLine, SupplierOffer
from catalog.schemas.materials import MaterialStatus
from catalog.schemas.offers import OfferStatus
from catalog.schemas.prices import PriceListKind
from catalog.service.materials import get_material, pack_sizes_of
from catalog.units import PackSize, convert, to_decimal
from tradeloom.driver_statements import DriverStatement
from tradeloom.errors import Conflict, NotFound

_CENTS = Decimal("0.0001")
_QUANTITY_PLACES = 6
_ONE = Fraction(1)


class PriceRule(StrEnum):
    CONTRACT = "contract_price_list"
    CUSTOMER = "customer_price_list"
    OFFER = "offer_price_break"


@dataclass(frozen=True)
class PriceQuote:
    """One supplier's price for one order; ``adjustments`` says in words what the rules changed."""

    material_id: uuid.UUID
    material_code: str
    supplier_org_id: uuid.UUID
    offer_id: uuid.UUID | None
    price_list_id: uuid.UUID | None
    rule: PriceRule
    currency: str
    unit_price: Decimal
    order_unit: str
    requested_quantity: Decimal
    requested_unit: str
    quantity_in_order_unit: Decimal
    quantity_exact: bool
    order_quantity: Decimal
    moq: Decimal
    pack_size: Decimal
    line_total: Decimal
    valid_from: dt.date
    valid_to: dt.date | None
    lead_time_days: int | None
    incoterm: str | None
    adjustments: tuple[str, ...]
    price_per_base_unit: Fraction  # ranking key, exact


class _Offer(NamedTuple):
    """The columns of a supplier offer the engine reads (plain rows: loading ORM objects cost more than pricing),
    with its price breaks as two arrays ascending by quantity (NULL without any)."""

    id: uuid.UUID
    org_id: uuid.UUID
    material_id: uuid.UUID
    currency: str
    order_unit: str
    moq: Decimal
    pack_size: Decimal
    lead_time_days: int
    incoterm: str
    valid_from: dt.date
    valid_to: dt.date | None
    tier_quantities: list[Decimal] | None
    tier_prices: list[Decimal] | None

    def unit_price_for(self, order_quantity: Decimal) -> Decimal | None:
        """The price of the largest break the quantity reaches, if any."""
        breaks = zip(self.tier_quantities or (), self.tier_prices or (), strict=True)
        return next((price for quantity, price in reversed(list(breaks)) if quantity <= order_quantity), None)


class _ListPrice(NamedTuple):
    """A price-list line with the columns of its list the engine reads."""

    price_list_id: uuid.UUID
    supplier_org_id: uuid.UUID
    kind: str
    currency: str
    valid_from: dt.date
    valid_to: dt.date | None
    material_id: uuid.UUID
    min_quantity: Decimal
    unit_price: Decimal


@dataclass(frozen=True)
class PriceRequest:
    """One material, quantity and unit to price (made by :func:`price_request`, which checks it)."""

    material: Material
    packs: dict[str, PackSize]
    quantity: Decimal
    unit: str


def _ratio(source: str, target: str, packs: dict[str, PackSize]) -> Fraction:
    """How many ``target`` units one ``source`` unit is, exactly (via the inverse when 1/x does not terminate).

    A unit in itself is 1 without a look at the tables: most cart lines come in the offer's own unit.
    """
    if source == target:
        return _ONE
    try:
        return Fraction(convert(Decimal(1), source, target, pack_sizes=packs))
    except InexactConversion:
        return 1 / Fraction(convert(Decimal(1), target, source, pack_sizes=packs))


def _in_unit(request: PriceRequest, target: str) -> Fraction:
    """The requested quantity in ``target`` units, exactly."""
    return Fraction(request.quantity) * _ratio(request.unit, target, request.packs)


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _decimal(value: Fraction) -> tuple[Decimal, bool]:
    """Exact decimal form when there is one, else half-even to 6 places; and whether it was exact."""
    try:
        return to_decimal(value), True
    except InexactConversion:
        return to_decimal(value, places=_QUANTITY_PLACES), False


def _list_price(candidates: Sequence[_ListPrice], base_quantity: Decimal) -> _ListPrice | None:
    """Contract before customer; the applicable line (highest min_quantity ≤ quantity) with the lowest price."""
    for kind in (PriceListKind.CONTRACT, PriceListKind.CUSTOMER):
        applicable: dict[uuid.UUID, _ListPrice] = {}
        for candidate in candidates:
            if candidate.kind != kind or candidate.min_quantity > base_quantity:
                continue
            best = applicable.get(candidate.price_list_id)
            if best is None or candidate.min_quantity > best.min_quantity:
                applicable[candidate.price_list_id] = candidate
        if applicable:
            return min(applicable.values(), key=lambda c: (c.unit_price, str(c.price_list_id)))
    return None


def _validity(*ranges: tuple[dt.date, dt.date | None]) -> tuple[dt.date, dt.date | None]:
    ends = [end for _, end in ranges if end is not None]
    return max(start for start, _ in ranges), min(ends) if ends else None


def _quote(
    request: PriceRequest, *, supplier_org_id: uuid.UUID, offer: _Offer | None, lists: Sequence[_ListPrice],
) -> PriceQuote | None:
    material = request.material
    order_unit = offer.order_unit if offer else material.base_unit
    requested = _in_unit(request, order_unit)
    shown, exact = _decimal(requested)
    adjustments: list[str] = []
    if offer is None:
        moq, pack_size = Decimal(0), Decimal(0)
        order_quantity = to_decimal(Fraction(math.ceil(requested * 10**_QUANTITY_PLACES), 10**_QUANTITY_PLACES))
    else:
        moq, pack_size = offer.moq, offer.pack_size
        needed = max(requested, Fraction(moq))
        if requested < moq:
            adjustments.append(f"raised to the minimum order quantity of {_text(moq)} {order_unit}")
        order_quantity = pack_size * math.ceil(needed / Fraction(pack_size))
        if order_quantity != needed:
            adjustments.append(f"rounded up to whole packs of {_text(pack_size)} {order_unit}")
    base_ratio = _ratio(order_unit, material.base_unit, request.packs)
    base_per_order_unit = to_decimal(base_ratio)
    list_price = _list_price(lists, order_quantity * base_per_order_unit)
    ranges: list[tuple[dt.date, dt.date | None]] = [(offer.valid_from, offer.valid_to)] if offer else []
    if list_price is not None:
        rule = PriceRule.CONTRACT if list_price.kind == PriceListKind.CONTRACT else PriceRule.CUSTOMER
        unit_price, currency = list_price.unit_price * base_per_order_unit, list_price.currency
        ranges.append((list_price.valid_from, list_price.valid_to))
    elif offer is None or (tier_price := offer.unit_price_for(order_quantity)) is None:
        return None  # no list price, and no offer or none of its price breaks applies
    else:
        rule, unit_price, currency = PriceRule.OFFER, tier_price, offer.currency
    valid_from, valid_to = _validity(*ranges)
    return PriceQuote(
        material_id=material.id, material_code=material.code, supplier_org_id=supplier_org_id,
        offer_id=offer.id if offer else None, price_list_id=list_price.price_list_id if list_price else None,
        rule=rule, currency=currency, unit_price=unit_price, order_unit=order_unit,
        requested_quantity=request.quantity, requested_unit=request.unit, quantity_in_order_unit=shown,
        quantity_exact=exact, order_quantity=order_quantity, moq=moq, pack_size=pack_size,
        line_total=(unit_price * order_quantity).quantize(_CENTS, rounding=ROUND_HALF_UP),
        valid_from=valid_from, valid_to=valid_to, lead_time_days=offer.lead_time_days if offer else None,
        incoterm=offer.incoterm if offer else None, adjustments=tuple(adjustments),
        price_per_base_unit=Fraction(unit_price) / base_ratio,
    )


def _rank(quote: PriceQuote) -> tuple[str, Fraction, int, str, str]:
    lead_time = quote.lead_time_days if quote.lead_time_days is not None else 10**6
    return quote.currency, quote.price_per_base_unit, lead_time, str(quote.supplier_org_id), str(quote.offer_id)


def _offer_tiers(column: InstrumentedAttribute[Decimal]) -> ScalarSelect[list[Decimal]]:
    """One column of the offer's price breaks as an array ascending by quantity: read with the offer, not in a
    round trip of its own."""
    return select(func.array_agg(aggregate_order_by(column, OfferPriceTier.min_quantity))).where(
        OfferPriceTier.offer_id == SupplierOffer.id).scalar_subquery()


# The engine's reads are built once with parameters: every cart and price page runs them, and building a
# statement (and its cache key) costs more Python time than executing it.
_MATERIAL_IDS = bindparam("material_ids", type_=ARRAY(PG_UUID(as_uuid=True)))
_VALID_OFFERS = select(
    SupplierOffer.id, SupplierOffer.org_id, SupplierOffer.material_id, SupplierOffer.currency,
    SupplierOffer.order_unit, SupplierOffer.moq, SupplierOffer.pack_size, SupplierOffer.lead_time_days,
    SupplierOffer.incoterm, SupplierOffer.valid_from, SupplierOffer.valid_to,
    _offer_tiers(OfferPriceTier.min_quantity), _offer_tiers(OfferPriceTier.unit_price),
).where(
    SupplierOffer.material_id == any_(_MATERIAL_IDS),
    SupplierOffer.status == OfferStatus.ACTIVE.value, SupplierOffer.valid_from <= bindparam("on_date"),
    or_(SupplierOffer.valid_to.is_(None), SupplierOffer.valid_to >= bindparam("on_date")),
)
_OFFERS = DriverStatement(_VALID_OFFERS)
_SUPPLIER_OFFERS = DriverStatement(_VALID_OFFERS.where(SupplierOffer.org_id == bindparam("supplier_org_id")))
_VALID_LIST_PRICES = select(
    PriceList.id, PriceList.org_id, PriceList.kind, PriceList.currency, PriceList.valid_from, PriceList.valid_to,
    PriceListLine.material_id, PriceListLine.min_quantity, PriceListLine.unit_price,
).join(
    PriceListLine, PriceListLine.price_list_id == PriceList.id
).where(
    PriceListLine.material_id == any_(_MATERIAL_IDS),
    PriceList.buyer_org_id == bindparam("buyer_org_id"), PriceList.valid_from <= bindparam("on_date"),
    or_(PriceList.valid_to.is_(None), PriceList.valid_to >= bindparam("on_date")),
)
_LIST_PRICES = DriverStatement(_VALID_LIST_PRICES)
_SUPPLIER_LIST_PRICES = DriverStatement(_VALID_LIST_PRICES.where(PriceList.org_id == bindparam("supplier_org_id")))


async def _valid_offers(
    session: AsyncSession, material_ids: Sequence[uuid.UUID], on_date: dt.date, supplier_org_id: uuid.UUID | None
) -> list[_Offer]:
    query = _SUPPLIER_OFFERS if supplier_org_id else _OFFERS
    params = {"material_ids": material_ids, "on_date": on_date, "supplier_org_id": supplier_org_id}
    return [_Offer._make(row) for row in await query.rows(session, params)]


async def _valid_list_prices(
    session: AsyncSession, material_ids: Sequence[uuid.UUID], buyer_org_id: uuid.UUID, on_date: dt.date,
    supplier_org_id: uuid.UUID | None,
) -> list[_ListPrice]:
    """Lines for this buyer and these materials from lists valid on the date (RLS hides other parties' lists)."""
    query = _SUPPLIER_LIST_PRICES if supplier_org_id else _LIST_PRICES
    params = {"material_ids": material_ids, "buyer_org_id": buyer_org_id, "on_date": on_date,
              "supplier_org_id": supplier_org_id}
    return [_ListPrice._make(row) for row in await query.rows(session, params)]


def price_request(material: Material, quantity: Decimal, unit: str) -> PriceRequest:
    """A request the engine can price, or the reason it cannot (422/409), checked without any query."""
    if not isinstance(quantity, Decimal) or not quantity.is_finite() or quantity <= 0:
        raise InvalidQuantity(f"Quantity {quantity!r} must be a positive, finite Decimal.")
    if material.status != MaterialStatus.ACTIVE:
        raise Conflict(f"{material.code} is {material.status} and cannot be bought.",
                       code="catalog.material_not_purchasable")
    request = PriceRequest(material, pack_sizes_of(material), quantity, unit)
    _ratio(unit, material.base_unit, request.packs)  # refuses an unknown or incompatible unit before anything else
    return request


async def quotes_for(
    session: AsyncSession, *, buyer_org_id: uuid.UUID, material_id: uuid.UUID, quantity: Decimal, unit: str,
    on_date: dt.date, supplier_org_id: uuid.UUID | None = None,
) -> list[PriceQuote]:
    """Every supplier's quote (one per valid offer, or one per price list without an offer), best first."""
    request = price_request(await get_material(session, material_id=material_id), quantity, unit)
    (quotes,) = await quotes_for_many(session, buyer_org_id=buyer_org_id, requests=[request], on_date=on_date,
                                      supplier_org_id=supplier_org_id)
    return quotes


async def quotes_for_many(
    session: AsyncSession, *, buyer_org_id: uuid.UUID, requests: Sequence[PriceRequest], on_date: dt.date,
    supplier_org_id: uuid.UUID | None = None,
) -> list[list[PriceQuote]]:
    """The quotes of each request (best first), for many materials in two queries: a cart, an order."""
    material_ids = list({request.material.id for request in requests})
    offers = await _valid_offers(session, material_ids, on_date, supplier_org_id)
    lists = await _valid_list_prices(session, material_ids, buyer_org_id, on_date, supplier_org_id)
    offers_of: dict[uuid.UUID, list[_Offer]] = defaultdict(list)
    for offer in offers:
        offers_of[offer.material_id].append(offer)
    lists_of: dict[uuid.UUID, list[_ListPrice]] = defaultdict(list)
    for list_price in lists:
        lists_of[list_price.material_id].append(list_price)
    return [_quotes(request, offers_of[request.material.id], lists_of[request.material.id])
            for request in requests]


def _quotes(request: PriceRequest, offers: list[_Offer], lists: list[_ListPrice]) -> list[PriceQuote]:
    """One material's quotes: one per offer (with its supplier's lists), one per list-only supplier."""
    lists_by_supplier: dict[uuid.UUID, list[_ListPrice]] = defaultdict(list)
    for list_price in lists:
        lists_by_supplier[list_price.supplier_org_id].append(list_price)
    quotes = [_quote(request, supplier_org_id=offer.org_id, offer=offer, lists=lists_by_supplier.get(offer.org_id, []))
              for offer in offers]
    offering = {offer.org_id for offer in offers}
    for supplier in sorted(lists_by_supplier.keys() - offering, key=str):
        quotes.append(_quote(request, supplier_org_id=supplier, offer=None, lists=lists_by_supplier[supplier]))
    return sorted((quote for quote in quotes if quote is not None), key=_rank)


async def price_for(
    session: AsyncSession, *, buyer_org_id: uuid.UUID, material_id: uuid.UUID, quantity: Decimal, unit: str,
    on_date: dt.date, supplier_org_id: uuid.UUID | None = None,
) -> PriceQuote:
    """The price that applies (the best supplier's when none is named); 404 when nobody offers a price."""
    quotes = await quotes_for(session, buyer_org_id=buyer_org_id, material_id=material_id, quantity=quantity,
                              unit=unit, on_date=on_date, supplier_org_id=supplier_org_id)
    if not quotes:
        raise NotFound("No valid offer or price list gives a price for this material on that date.",
                       code="catalog.no_price")
    return quotes[0]
