"""Purchase orders in bulk: each record is placed on its own (a refused one leaves the others standing).

Suppliers, delivery sites and materials of the whole batch are read up front in three queries; each order
is then created by ``commerce.orders`` inside a savepoint, so its refusal rolls back only itself.
"""

import functools
import uuid
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.service.materials import materials_by_code
from commerce.orders.rules import OrderSource, TaxRate
from commerce.orders.service.create import OrderLineDraft, OrderTerms, create_order
from integrations.bulk.outcome import Outcomes, Problem, write_one
from integrations.bulk.records import MaterialNamed, OrderRecord, PartnerRecord
from integrations.external_ids.service import ObjectType, known_ids
from tradeloom.audit import Actor
from tradeloom.identity.models import Organization
from tradeloom.sites.models import Site


async def organizations_by_uscc(session: AsyncSession, usccs: set[str]) -> dict[str, uuid.UUID]:
    rows = await session.execute(select(Organization.uscc, Organization.id).where(Organization.uscc.in_(usccs)))
    return {key: value for key, value in rows}


async def _suppliers(session: AsyncSession, actor: Actor, source_system: str,
                     records: Sequence[tuple[int, OrderRecord]]) -> dict[str, uuid.UUID]:
    """Supplier ids by USCC and by ``ref:<their partner number>``."""
    by_uscc = await organizations_by_uscc(session, {r.supplier_uscc for _, r in records if r.supplier_uscc})
    by_ref = await known_ids(session, org_id=actor.org_id, source_system=source_system,
                             object_type=ObjectType.ORGANIZATION,
                             external_ids={r.supplier_ref for _, r in records if r.supplier_ref})
    return by_uscc | {f"ref:{ref}": org_id for ref, org_id in by_ref.items()}


def _supplier_key(record: OrderRecord) -> str:
    return record.supplier_uscc or f"ref:{record.supplier_ref}"


async def _sites(session: AsyncSession, codes: set[str]) -> dict[str, uuid.UUID]:
    """The buyer's own sites by code (row-level security hides every other organization's)."""
    rows = await session.execute(select(Site.code, Site.id).where(Site.code.in_(codes)))
    return {key: value for key, value in rows}


async def material_ids(session: AsyncSession, actor: Actor, source_system: str,
                       lines: Sequence[MaterialNamed]) -> dict[str, uuid.UUID]:
    """Material ids by ``code:<our code>`` and by ``ref:<their material number>``."""
    by_code = await materials_by_code(session, codes=sorted({line.material_code for line in lines
                                                             if line.material_code}))
    by_ref = await known_ids(session, org_id=actor.org_id, source_system=source_system,
                             object_type=ObjectType.MATERIAL,
                             external_ids={line.material_ref for line in lines if line.material_ref})
    return ({f"code:{code}": found.material.id for code, found in by_code.items()}
            | {f"ref:{ref}": material_id for ref, material_id in by_ref.items()})


def _drafts(record: OrderRecord, materials: dict[str, uuid.UUID]) -> tuple[list[OrderLineDraft], list[Problem]]:
    drafts: list[OrderLineDraft] = []
    problems: list[Problem] = []
    for number, line in enumerate(record.lines):
        material_id = materials.get(line.material_key)
        if material_id is None:
            problems.append(unknown_material(line, f"/lines/{number}/", "order_material_unknown"))
        elif line.tax_rate not in TaxRate._value2member_map_:
            problems.append(Problem(f"/lines/{number}/tax_rate", "order_tax_rate_unknown",
                                    f"{line.tax_rate} is not a VAT rate ({', '.join(TaxRate)})"))
        else:
            drafts.append(OrderLineDraft(
                material_id=material_id, quantity=line.quantity, unit=line.unit, unit_price=line.unit_price,
                tax_rate=TaxRate(line.tax_rate), requested_date=line.requested_date, price_rule="erp",
                price_reference=record.external_id))
    return drafts, problems


def unknown_material(named: MaterialNamed, prefix: str, code: str) -> Problem:
    field = named.material_field
    return Problem(prefix + field, code, f"no material is known as {getattr(named, field)}")


def _party_problems(record: OrderRecord, suppliers: dict[str, uuid.UUID], sites: dict[str, uuid.UUID]) -> list[Problem]:
    problems = []
    if _supplier_key(record) not in suppliers:
        field = "supplier_uscc" if record.supplier_uscc else "supplier_ref"
        problems.append(Problem(f"/{field}", "order_supplier_unknown",
                                f"no organization is known as {getattr(record, field)}"))
    if record.delivery_site_code not in sites:
        problems.append(Problem("/delivery_site_code", "order_site_unknown",
                                f"you have no site with the code {record.delivery_site_code}"))
    return problems


async def _place(session: AsyncSession, actor: Actor, record: OrderRecord, supplier_org_id: uuid.UUID,
                 site_id: uuid.UUID, drafts: list[OrderLineDraft]) -> uuid.UUID:
    order = await create_order(
        session, actor=actor, supplier_org_id=supplier_org_id, delivery_site_id=site_id,
        currency=record.currency, lines=drafts, source=OrderSource.ERP,
        reference=record.reference or record.external_id,
        terms=OrderTerms(payment_terms=record.payment_terms, requested_date=record.requested_date))
    return order.id


Progress = Callable[[int], Awaitable[None]]
PROGRESS_EVERY = 200


async def write_order_records(session: AsyncSession, *, actor: Actor, source_system: str,
                              records: Sequence[tuple[int, OrderRecord]], outcomes: Outcomes,
                              progress: Progress) -> None:
    """Place a draft purchase order for every record that names known parties and materials."""
    suppliers = await _suppliers(session, actor, source_system, records)
    sites = await _sites(session, {record.delivery_site_code for _, record in records})
    materials = await material_ids(session, actor, source_system,
                                   [line for _, record in records for line in record.lines])
    for done, (index, record) in enumerate(records):
        if done and done % PROGRESS_EVERY == 0:
            await progress(done)
        drafts, problems = _drafts(record, materials)
        problems = _party_problems(record, suppliers, sites) + problems
        if problems:
            outcomes.rejected[index] = problems
            continue
        await write_one(session, outcomes, index, functools.partial(
            _place, session, actor, record, suppliers[_supplier_key(record)], sites[record.delivery_site_code],
            drafts))


async def link_partner_records(session: AsyncSession, *, records: Sequence[tuple[int, PartnerRecord]],
                               outcomes: Outcomes) -> None:
    """Map each partner to the platform organization with its USCC (unknown USCC: refused)."""
    organizations = await organizations_by_uscc(session, {record.uscc for _, record in records})
    for index, record in records:
        if record.uscc in organizations:
            outcomes.created[index] = organizations[record.uscc]
        else:
            outcomes.reject(index, Problem("/uscc", "partner_not_registered",
                                           f"no organization with the code {record.uscc} is registered"))
