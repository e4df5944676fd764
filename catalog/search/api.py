"""``/api/v1/catalog/search``: the shared catalogue, searched by any signed-in member."""

import re
import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import Depends, Query, Request

from catalog.search import service
from catalog.search.query import MAX_QUERY_CHARS, SearchQuery, SortOrder
from catalog.search.schemas import SearchPage
from tradeloom.auth import Principal, requires
from tradeloom.errors import Invalid
from tradeloom.identity.roles import Permission
from tradeloom.pagination import Cursor, decode_cursor, encode_cursor
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix="/api/v1/catalog", tags=["catalog"], route_class=TransactionalRoute)
Reader = Annotated[Principal, Depends(requires(Permission.CATALOG_READ))]
_ATTRIBUTE_FILTER = r"^[a-z][a-z0-9_]{0,63}:.{1,100}$"


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    (offset,) = decode_cursor(cursor, arity=1)
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise Invalid("The cursor is not one this API returned.", code="cursor_invalid")
    return offset


@router.get("/search")
async def search(
    request: Request, principal: Reader, session: DbSession,
    q: Annotated[str, Query(max_length=MAX_QUERY_CHARS, description="words, a material code, GTIN, "
                            "supplier part number or a scanned GS1 string / Digital Link URI")] = "",
    class_code: Annotated[str | None, Query(alias="class", pattern=r"^[0-9]{2,8}$")] = None,
    supplier: uuid.UUID | None = None,
    in_stock: bool | None = None,
    price_min: Annotated[Decimal | None, Query(ge=0, le=10**12)] = None,
    price_max: Annotated[Decimal | None, Query(ge=0, le=10**12)] = None,
    attr: Annotated[list[str], Query(max_length=10, description="attribute filter key:value, repeatable")] = [],  # noqa: B006
    sort: SortOrder = SortOrder.RELEVANCE,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Cursor = None,
) -> SearchPage:
    """Search materials: exact identifiers first, then words with synonyms, then fuzzy; with facets."""
    query = SearchQuery(
        text=q, class_code=class_code, supplier_id=supplier, in_stock=in_stock, price_min=price_min,
        price_max=price_max, attributes=_attribute_filters(attr), sort=sort, offset=_offset(cursor), limit=limit,
    )
    backend = service.backend_for(session, request.app.state.settings)
    result = await service.search_catalog(session, backend, query=query, buyer_org_id=principal.org_id)
    return SearchPage.model_validate({
        "match": result.match.value, "total": result.total, "hits": result.hits, "facets": result.facets,
        "next_cursor": encode_cursor(result.next_offset) if result.next_offset is not None else None,
    })


def _attribute_filters(values: list[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for value in values:
        if not re.fullmatch(_ATTRIBUTE_FILTER, value):
            raise Invalid(f"Attribute filter {value!r} is not key:value.", code="search.attribute_filter_invalid")
        key, _, wanted = value.partition(":")
        pairs.append((key, wanted))
    return tuple(pairs)
