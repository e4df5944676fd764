"""Customer and contract price lists: prices one supplier grants one buyer.

Row-level security shows a list (and its lines) to its supplier (``org_id``) and its buyer only; a third
organization cannot even tell it exists. Only the supplier changes it. Lines are priced per base unit of
the material, from ``min_quantity`` base units on.
"""

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from catalog.models import Material, PriceList, PriceListLine
from catalog.schemas.prices import PriceListCreate, PriceListLineIn, PriceListUpdate
from catalog.service.offers import ensure_supplier
from tradeloom.audit import Actor, record_audit
from tradeloom.concurrency import check_version
from tradeloom.errors import Invalid, NotFound
from tradeloom.identity.roles import OrgKind
from tradeloom.identity.service import get_organization
from tradeloom.pagination import decode_cursor, encode_cursor

BUYING_KINDS = frozenset({OrgKind.BUYER.value, OrgKind.BOTH.value})


async def _check_lines(session: AsyncSession, lines: Sequence[PriceListLineIn]) -> None:
    keys = [(line.material_id, line.min_quantity) for line in lines]
    if len(set(keys)) != len(keys):
        raise Invalid("Two lines have the same material and min_quantity.", code="catalog.duplicate_price_line")
    wanted = {line.material_id for line in lines}
    found = set((await session.scalars(select(Material.id).where(Material.id.in_(wanted)))).all())
    if missing := wanted - found:
        raise Invalid(f"{len(missing)} line(s) name materials that do not exist.", code="catalog.unknown_material",
                      errors=[{"material_id": str(material_id)} for material_id in sorted(missing)])


def _check_validity(price_list: PriceList) -> None:
    if price_list.valid_to is not None and price_list.valid_to < price_list.valid_from:
        raise Invalid("valid_to is before valid_from.", code="catalog.invalid_validity",
                      errors=[{"pointer": "/valid_to"}])


async def _replace_lines(session: AsyncSession, price_list: PriceList, lines: Sequence[PriceListLineIn]) -> None:
    await session.execute(delete(PriceListLine).where(PriceListLine.price_list_id == price_list.id))
    await session.execute(insert(PriceListLine), [
        {"org_id": price_list.org_id, "price_list_id": price_list.id, "buyer_org_id": price_list.buyer_org_id,
         "material_id": line.material_id, "min_quantity": line.min_quantity, "unit_price": line.unit_price}
        for line in lines
    ])


async def create_price_list(session: AsyncSession, *, actor: Actor, fields: PriceListCreate) -> PriceList:
    """Grant a buyer its own prices (a customer price list or the prices of a contract)."""
    await ensure_supplier(session, actor)
    buyer = await get_organization(session, fields.buyer_org_id)
    if buyer.id == actor.org_id or buyer.kind not in BUYING_KINDS:
        raise Invalid("The buyer must be another organization that buys.", code="catalog.invalid_buyer",
                      errors=[{"pointer": "/buyer_org_id"}])
    await _check_lines(session, fields.lines)
    price_list = PriceList(org_id=actor.org_id, **fields.model_dump(exclude={"lines"}))
    _check_validity(price_list)
    session.add(price_list)
    await session.flush()
    await _replace_lines(session, price_list, fields.lines)
    await _audit(session, actor, "price_list.created", price_list, lines=len(fields.lines))
    return price_list


async def get_price_list(session: AsyncSession, *, price_list_id: uuid.UUID) -> PriceList:
    """A list the caller is party to (as supplier or buyer); any other is not found."""
    price_list = await session.get(PriceList, price_list_id)
    if price_list is None:
        raise NotFound("No such price list.", code="catalog.price_list_not_found")
    return price_list


async def price_list_lines(session: AsyncSession, *, price_list_id: uuid.UUID) -> list[PriceListLine]:
    """The lines of a list the caller is party to, by material and quantity."""
    query = select(PriceListLine).where(PriceListLine.price_list_id == price_list_id).order_by(
        PriceListLine.material_id, PriceListLine.min_quantity
    )
    return list((await session.scalars(query)).all())


async def list_price_lists(
    session: AsyncSession, *, limit: int, cursor: str | None
) -> tuple[list[PriceList], str | None]:
    """The lists the caller grants or is granted, ordered by id, one keyset page at a time."""
    query = select(PriceList).order_by(PriceList.id).limit(limit + 1)
    if cursor:
        (after,) = decode_cursor(cursor, arity=1)
        try:
            query = query.where(PriceList.id > uuid.UUID(str(after)))
        except ValueError as exc:
            raise Invalid("The cursor is not one this API returned.", code="cursor_invalid") from exc
    lists = list((await session.scalars(query)).all())
    next_cursor = encode_cursor(str(lists[limit - 1].id)) if len(lists) > limit else None
    return lists[:limit], next_cursor


async def update_price_list(
    session: AsyncSession, *, actor: Actor, price_list_id: uuid.UUID, expected_version: int,
    changes: PriceListUpdate,
) -> PriceList:
    """Change a list the actor grants (the buyer only reads it); ``lines`` replaces every line."""
    price_list = await get_price_list(session, price_list_id=price_list_id)
    if price_list.org_id != actor.org_id:
        raise NotFound("No such price list of yours.", code="catalog.price_list_not_found")
    check_version(price_list.version, expected_version)
    for name, value in changes.model_dump(exclude_unset=True, exclude={"lines"}).items():
        if value is None and name in ("name", "valid_from"):
            raise Invalid(f"{name} cannot be emptied.", code="catalog.field_required")
        setattr(price_list, name, value)
    _check_validity(price_list)
    if changes.lines is not None:
        await _check_lines(session, changes.lines)
        await _replace_lines(session, price_list, changes.lines)
        flag_modified(price_list, "name")  # new prices are a new version of the list
    await session.flush()
    await _audit(session, actor, "price_list.updated", price_list,
                 fields=sorted(changes.model_dump(exclude_unset=True)))
    return price_list


async def _audit(session: AsyncSession, actor: Actor, action: str, price_list: PriceList, **details: object) -> None:
    await record_audit(session, actor=actor, action=action, object_type="price_list", object_id=price_list.id,
                       details={"buyer_org_id": str(price_list.buyer_org_id), "kind": price_list.kind,
                                "version": price_list.version, **details})
