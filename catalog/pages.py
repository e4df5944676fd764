"""Catalogue pages: browse and search with facets, material detail with suppliers' prices.

The supplier's offer pages live in ``catalog.offer_pages``, the import and data-governance pages in
``catalog.data_pages``; ``install`` registers all three.
"""

import uuid
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from catalog import data_pages, offer_pages
from catalog.attributes import AttributeTemplate
from catalog.models import Material
from catalog.page_kit import chinese, org_names, plain
from catalog.search import service as search
from catalog.search.backend import SearchResult
from catalog.search.query import MAX_OFFSET, MAX_QUERY_CHARS, PRICE_BOUNDS, SearchQuery
from catalog.service import offers
from catalog.service.classes import get_class
from catalog.service.materials import get_material
from catalog.service.pricing import PriceQuote, PriceRule, quotes_for
from catalog.storage import storage_from_settings
from catalog.units import units
from tradeloom.auth import Principal
from tradeloom.db import utcnow
from tradeloom.errors import TradeloomError
from tradeloom.identity.roles import OrgKind, Permission
from tradeloom.transaction import TransactionalRoute, Tx
from tradeloom.web.labels import N_
from tradeloom.web.navigation import NavItem, add_nav_item
from tradeloom.web.pages import Member
from tradeloom.web.templating import add_template_dir, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
PAGE_SIZE = 20
_SUPPLYING = frozenset({OrgKind.SUPPLIER, OrgKind.BOTH})


def _bucket_range(bucket: int | None) -> tuple[Decimal | None, Decimal | None]:
    """A price facet bucket (width_bucket numbering) as a price range."""
    if bucket is None:
        return None, None
    low = PRICE_BOUNDS[bucket - 1] if bucket > 0 else None
    high = PRICE_BOUNDS[bucket] if bucket < len(PRICE_BOUNDS) else None
    return low, high


@router.get("/catalog")
async def browse(
    request: Request, principal: Member, tx: Tx,
    q: Annotated[str, Query(max_length=MAX_QUERY_CHARS)] = "",
    class_code: Annotated[str | None, Query(alias="class", pattern=r"^[0-9]{2,8}$")] = None,
    supplier: uuid.UUID | None = None, in_stock: bool | None = None,
    price: Annotated[int | None, Query(ge=0, le=len(PRICE_BOUNDS))] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Response:
    principal.require(Permission.CATALOG_READ)
    session = await tx.session()
    price_min, price_max = _bucket_range(price)
    query = SearchQuery(text=q, class_code=class_code, supplier_id=supplier, in_stock=in_stock or None,
                        price_min=price_min, price_max=price_max, offset=offset, limit=PAGE_SIZE)
    result = await search.search_catalog(session, search.backend_for(session, request.app.state.settings),
                                         query=query, buyer_org_id=principal.org_id)
    filters = {"q": q, "class": class_code or "", "supplier": str(supplier or ""),
               "in_stock": "true" if in_stock else "", "price": "" if price is None else str(price)}
    template = "catalog/results.html" if request.headers.get("hx-request") else "catalog/browse.html"
    return render(request, template, _browse_context(result, filters, offset) | {
        "zh": chinese(request), "supplier_names": await org_names(request, session)}, principal=principal)


def _browse_context(result: SearchResult, filters: dict[str, str], offset: int) -> dict[str, Any]:
    def link(**changes: str | int) -> str:
        chosen = {key: str(value) for key, value in (filters | changes).items() if value not in ("", None)}
        return "/catalog?" + urlencode(chosen)
    previous = max(offset - PAGE_SIZE, 0) if offset else None
    return {"result": result, "filters": filters, "link": link,
            "previous_offset": previous, "next_offset": result.next_offset}


def _chart(quotes: list[PriceQuote], names: dict[str, str]) -> dict[str, Any]:
    """Each supplier's price per base unit in the best quote's currency (others do not compare), for the chart."""
    same = [quote for quote in quotes if quote.currency == quotes[0].currency] if quotes else []
    return {"labels": [names.get(str(quote.supplier_org_id), "?") for quote in same],
            "prices": [round(float(quote.price_per_base_unit), 4) for quote in same],
            "currency": same[0].currency if same else ""}


def _unit_name(code: str, zh: bool) -> str:
    unit = units().get(code)
    return code if unit is None else f"{unit.name_zh if zh else unit.name_en} ({unit.symbol})"


def _attribute_rows(material: Material, template: AttributeTemplate, zh: bool) -> list[tuple[str, str]]:
    """Each attribute as (name in the page language, value with its unit)."""
    rows = []
    for key, value in material.attributes.items():
        spec = template.spec(key)
        if spec is None:
            rows.append((key, str(value)))
            continue
        shown = (spec.allowed_zh or {}).get(str(value), str(value)) if zh else str(value)
        unit = units().get(spec.unit) if spec.unit else None
        rows.append((spec.name_zh if zh else spec.name_en, f"{shown} {unit.symbol}" if unit else shown))
    return rows


async def _quotes(session: AsyncSession, principal: Principal, material: Material) -> list[PriceQuote]:
    try:
        return await quotes_for(session, buyer_org_id=principal.org_id, material_id=material.id, quantity=Decimal(1),
                                unit=material.base_unit, on_date=utcnow().date())
    except TradeloomError:
        return []  # not purchasable (draft, blocked): the page still shows the material


@router.get("/catalog/materials/{material_id}")
async def material_page(request: Request, principal: Member, tx: Tx, material_id: uuid.UUID) -> Response:
    principal.require(Permission.CATALOG_READ)
    session = await tx.session()
    material, zh = await get_material(session, material_id=material_id), chinese(request)
    material_class = await get_class(session, code=material.class_code)
    quotes = await _quotes(session, principal, material)
    offer_ids = [quote.offer_id for quote in quotes if quote.offer_id]
    tiers = await offers.price_tiers(session, offer_ids=offer_ids)
    names = await org_names(request, session)
    return render(request, "catalog/material.html", {
        "material": material, "quotes": quotes, "zh": zh, "names": names, "class_node": material_class.node,
        "attributes": _attribute_rows(material, material_class.template, zh),
        "base_unit": _unit_name(material.base_unit, zh),
        "tiers": {offer_id: [t for t in tiers if t.offer_id == offer_id] for offer_id in offer_ids},
        "stock": {s.offer_id for s in await offers.stock_of(session, offer_ids=offer_ids) if s.quantity > 0},
        "own_prices": [quote for quote in quotes if quote.rule is not PriceRule.OFFER],
        "rule_labels": RULE_LABELS, "chart": _chart(quotes, names), "plain": plain,
    }, principal=principal)


RULE_LABELS = {PriceRule.CONTRACT: N_("Contract price"), PriceRule.CUSTOMER: N_("Customer price"),
               PriceRule.OFFER: N_("Offer price break")}


def install(app: FastAPI) -> None:
    """Register the catalogue pages, their templates and navigation items, and open the attachment store
    (a bad ``TRADELOOM_STORAGE_URL`` stops the app here, at start, not at the first upload)."""
    app.state.attachment_storage = storage_from_settings(app.state.settings)
    add_template_dir(Path(__file__).resolve().parent / "templates")
    app.include_router(router)
    app.include_router(offer_pages.router)
    app.include_router(data_pages.router)
    for item in (
        NavItem("/catalog", N_("Catalogue"), Permission.CATALOG_READ, order=10),
        NavItem("/catalog/offers", N_("My offers"), Permission.OFFERS_MANAGE, org_kinds=_SUPPLYING, order=11),
        NavItem("/catalog/imports", N_("Catalogue imports"), Permission.CATALOG_WRITE, order=12),
        NavItem("/catalog/governance", N_("Data governance"), Permission.CATALOG_WRITE, order=13),
    ):
        add_nav_item(item)
