"""Reading and recording external ids: their key ↔ our object, per organization and source system."""

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.external_ids.models import ExternalId
from tradeloom.errors import NotFound


class ObjectType(StrEnum):
    """The kinds of our objects another system can hold a key for."""

    MATERIAL = "material"
    OFFER = "offer"
    PRICE_LIST = "price_list"
    PURCHASE_ORDER = "purchase_order"
    ORGANIZATION = "organization"
    STOCK_COUNT = "stock_count"  # a counted stock level: names the warehouse location it was applied at
    INVOICE = "invoice"
    CRM_CUSTOMER = "crm_customer"
    CRM_CONTACT = "crm_contact"
    QUALIFICATION = "qualification"
    GOODS_RECEIPT = "goods_receipt"


@dataclass(frozen=True)
class Link:
    """One external id to record: ``external_id`` of ``source_system`` is our ``object_id``."""

    external_id: str
    object_id: uuid.UUID


async def known_ids(session: AsyncSession, *, org_id: uuid.UUID, source_system: str, object_type: ObjectType,
                    external_ids: Collection[str]) -> dict[str, uuid.UUID]:
    """Which of these external ids are mapped already, to which of our objects (one query)."""
    if not external_ids:
        return {}
    rows = await session.execute(select(ExternalId.external_id, ExternalId.object_id).where(
        ExternalId.org_id == org_id, ExternalId.source_system == source_system,
        ExternalId.object_type == object_type.value, ExternalId.external_id.in_(sorted(set(external_ids)))))
    return {key: value for key, value in rows}


async def record_links(session: AsyncSession, *, org_id: uuid.UUID, source_system: str, object_type: ObjectType,
                       links: Iterable[Link]) -> None:
    """Store new mappings; one that exists already is kept as it is (the first object wins)."""
    values = [{"id": uuid.uuid4(), "org_id": org_id, "source_system": source_system,
               "object_type": object_type.value, "external_id": link.external_id, "object_id": link.object_id}
              for link in links]
    if values:
        await session.execute(insert(ExternalId).on_conflict_do_nothing(
            index_elements=["org_id", "source_system", "object_type", "external_id"]), values)


async def resolve(session: AsyncSession, *, source_system: str, object_type: ObjectType,
                  external_id: str) -> ExternalId:
    """Our object for their key (row-level security limits it to the caller's organization), else 404."""
    found = await session.scalar(select(ExternalId).where(
        ExternalId.source_system == source_system, ExternalId.object_type == object_type.value,
        ExternalId.external_id == external_id))
    if found is None:
        raise NotFound(f"{source_system} {object_type.value} {external_id!r} is not mapped to any object.",
                       code="external_id_not_found")
    return found


async def list_links(session: AsyncSession, *, source_system: str | None, object_type: ObjectType | None,
                     object_id: uuid.UUID | None, after: uuid.UUID | None, limit: int) -> list[ExternalId]:
    """The caller's mappings, filtered, in id order (``after`` continues a previous page)."""
    query = select(ExternalId).order_by(ExternalId.id).limit(limit)
    if source_system is not None:
        query = query.where(ExternalId.source_system == source_system)
    if object_type is not None:
        query = query.where(ExternalId.object_type == object_type.value)
    if object_id is not None:
        query = query.where(ExternalId.object_id == object_id)
    if after is not None:
        query = query.where(ExternalId.id > after)
    return list((await session.scalars(query)).all())


async def their_ids(session: AsyncSession, *, source_system: str, object_type: ObjectType,
                    object_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The other way round: their key for each of our objects that has one (row-level security: the caller's)."""
    if not object_ids:
        return {}
    rows = await session.execute(select(ExternalId.object_id, ExternalId.external_id).where(
        ExternalId.source_system == source_system, ExternalId.object_type == object_type.value,
        ExternalId.object_id.in_(sorted(set(object_ids)))).order_by(ExternalId.created_at))
    found: dict[uuid.UUID, str] = {}
    for object_id, external_id in rows:
        found.setdefault(object_id, external_id)
    return found
