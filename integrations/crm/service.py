"""CRM customers and contacts: written by connector syncs (through the bulk jobs), listed for the API and
the integration pages. A customer is linked to the platform buyer organization with its USCC / tax id, or
else with exactly its name; the others stay CRM customer records."""

import uuid
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.crm.models import CrmContact, CrmCustomer
from tradeloom.db import flush_or_conflict, utcnow
from tradeloom.errors import NotFound
from tradeloom.identity.models import Organization
from tradeloom.identity.roles import OrgKind

BUYING = (OrgKind.BUYER.value, OrgKind.BOTH.value)


def normalized_tax_id(tax_id: str | None) -> str | None:
    return "".join((tax_id or "").split()).upper() or None


async def buyer_matches(session: AsyncSession, *, tax_ids: Collection[str],
                        names: Collection[str]) -> tuple[dict[str, uuid.UUID], dict[str, uuid.UUID]]:
    """Active buyer organizations by USCC and by Chinese or English name (a name two share matches neither)."""
    by_tax: dict[str, uuid.UUID] = {}
    by_name: dict[str, uuid.UUID] = {}
    if tax_ids:
        rows = await session.execute(select(Organization.uscc, Organization.id).where(
            Organization.uscc.in_(sorted(tax_ids)), Organization.kind.in_(BUYING), Organization.is_active))
        by_tax = {uscc: org_id for uscc, org_id in rows}
    if names:
        wanted = sorted(names)
        named = await session.execute(select(Organization.name_zh, Organization.name_en, Organization.id).where(
            or_(Organization.name_zh.in_(wanted), Organization.name_en.in_(wanted)),
            Organization.kind.in_(BUYING), Organization.is_active))
        seen: dict[str, set[uuid.UUID]] = {}
        for name_zh, name_en, org_id in named:
            for name in {name_zh, name_en} & set(wanted):
                seen.setdefault(name, set()).add(org_id)
        by_name = {name: next(iter(ids)) for name, ids in seen.items() if len(ids) == 1}
    return by_tax, by_name


async def save_customer(session: AsyncSession, *, org_id: uuid.UUID, source_system: str, external_id: str,
                        known_id: uuid.UUID | None, fields: Mapping[str, Any],
                        buyer: tuple[uuid.UUID, str] | None) -> uuid.UUID:
    """Create the customer, or refresh the one synced before; ``buyer`` is the match (org id, how)."""
    customer = None if known_id is None else await session.get(CrmCustomer, known_id)
    if customer is None:
        customer = CrmCustomer(org_id=org_id, source_system=source_system, external_id=external_id)
        session.add(customer)
    for name, value in fields.items():
        setattr(customer, name, value)
    customer.buyer_org_id, customer.matched_by = buyer if buyer else (None, None)
    customer.synced_at = utcnow()
    await flush_or_conflict(session, f"Customer {external_id} of {source_system} exists already.", "crm_duplicate")
    return customer.id


async def save_contact(session: AsyncSession, *, org_id: uuid.UUID, source_system: str, external_id: str,
                       known_id: uuid.UUID | None, fields: Mapping[str, Any]) -> uuid.UUID:
    """Create the contact, or refresh the fields this pull carries of the one synced before."""
    contact = None if known_id is None else await session.get(CrmContact, known_id)
    if contact is None:
        contact = CrmContact(org_id=org_id, source_system=source_system, external_id=external_id)
        session.add(contact)
    for name, value in fields.items():
        setattr(contact, name, value)
    contact.synced_at = utcnow()
    await flush_or_conflict(session, f"Contact {external_id} of {source_system} exists already.", "crm_duplicate")
    return contact.id


async def list_customers(session: AsyncSession, *, query: str | None, linked: bool | None,
                         limit: int, offset: int = 0) -> list[CrmCustomer]:
    """The caller's CRM customers by name; ``query`` searches name and tax id, ``linked`` filters on a match."""
    statement = select(CrmCustomer).order_by(CrmCustomer.name, CrmCustomer.id).limit(limit).offset(offset)
    if query:
        pattern = f"%{query.strip()}%"
        statement = statement.where(or_(CrmCustomer.name.ilike(pattern), CrmCustomer.tax_id.ilike(pattern)))
    if linked is not None:
        statement = statement.where(CrmCustomer.buyer_org_id.is_not(None) if linked
                                    else CrmCustomer.buyer_org_id.is_(None))
    return list((await session.scalars(statement)).all())


async def get_customer(session: AsyncSession, *, customer_id: uuid.UUID) -> CrmCustomer:
    """One CRM customer of the caller's organization, else 404."""
    customer = await session.get(CrmCustomer, customer_id)
    if customer is None:
        raise NotFound("No such CRM customer.", code="crm_customer_not_found")
    return customer


async def list_contacts(session: AsyncSession, *, customer_id: uuid.UUID | None, limit: int,
                        offset: int = 0) -> list[CrmContact]:
    """The caller's CRM contacts (of one customer), by name."""
    statement = (select(CrmContact).order_by(CrmContact.name.nulls_last(), CrmContact.id)
                 .limit(limit).offset(offset))
    if customer_id is not None:
        statement = statement.where(CrmContact.customer_id == customer_id)
    return list((await session.scalars(statement)).all())


async def crm_counts(session: AsyncSession) -> dict[str, int]:
    """How many customers (linked to platform buyers or not) and contacts the caller's CRM holds."""
    linked = func.count(CrmCustomer.buyer_org_id)
    customers, matched = (await session.execute(select(func.count(), linked).select_from(CrmCustomer))).one()
    contacts = await session.scalar(select(func.count()).select_from(CrmContact))
    return {"customers": int(customers), "linked": int(matched), "contacts": int(contacts or 0)}


async def buyer_names(session: AsyncSession, org_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str]]:
    """(Chinese, English) names of the platform organizations customers are linked to."""
    if not org_ids:
        return {}
    rows = await session.execute(select(Organization.id, Organization.name_zh, Organization.name_en)
                                 .where(Organization.id.in_(sorted(org_ids))))
    return {org_id: (name_zh, name_en) for org_id, name_zh, name_en in rows}
