"""Purchase orders in bulk: each record is placed on its own (a refused one leaves the others standing).

Suppliers, delivery sites and materials of the whole batch are read up front in three queries; each order
is then created by ``commerce.orders`` inside a savepoint, so its refusal rolls back only itself.
"""

import uuid
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.service.materials import MaterialLookup, materials_by_code
from commerce.orders.rules import OrderSource, TaxRate
from commerce.orders.service.create import OrderLineDraft, OrderTerms, create_order
from integrations.bulk.outcome import Outcomes, Problem
from integrations.bulk.records import OrderRecord
from tradeloom.audit import Actor
from tradeloom.errors import TradeloomError
from tradeloom.identity.models import Organization
from tradeloom.sites.models import Site


async def _suppliers(session: AsyncSession, usccs: set[str]) -> dict[str, uuid.UUID]:
    rows = await session.execute(select(Organization.uscc, Organization.id).where(Organization.uscc.in_(usccs)))
    return {key: value for key, value in rows}


async def _sites(session: AsyncSession, codes: set[str]) -> dict[str, uuid.UUID]:
    """The buyer's own sites by code (row-level security hides every other organization's)."""
    rows = await session.execute(select(Site.code, Site.id).where(Site.code.in_(codes)))
    return {key: value for key, value in rows}


def _drafts(record: OrderRecord, materials: dict[str, MaterialLookup]) -> tuple[list[OrderLineDraft], list[Problem]]:
    drafts: list[OrderLineDraft] = []
    problems: list[Problem] = []
    for number, line in enumerate(record.lines):
        found = materials.get(line.material_code)
        if found is None:
            problems.append(Problem(f"/lines/{number}/material_code", "order_material_unknown",
                                    f"no material has the code {line.material_code}"))
        elif line.tax_rate not in TaxRate._value2member_map_:
            problems.append(Problem(f"/lines/{number}/tax_rate", "order_tax_rate_unknown",
                                    f"{line.tax_rate} is not a VAT rate ({', '.join(TaxRate)})"))
        else:
            drafts.append(OrderLineDraft(
                material_id=found.material.id, quantity=line.quantity, unit=line.unit, unit_price=line.unit_price,
                tax_rate=TaxRate(line.tax_rate), requested_date=line.requested_date, price_rule="erp",
                price_reference=record.external_id))
    return drafts, problems


def _party_problems(record: OrderRecord, suppliers: dict[str, uuid.UUID], sites: dict[str, uuid.UUID]) -> list[Problem]:
    problems = []
    if record.supplier_uscc not in suppliers:
        problems.append(Problem("/supplier_uscc", "order_supplier_unknown",
                                f"no organization has the code {record.supplier_uscc}"))
    if record.delivery_site_code not in sites:
        problems.append(Problem("/delivery_site_code", "order_site_unknown",
                                f"you have no site with the code {record.delivery_site_code}"))
    return problems


async def _place(session: AsyncSession, actor: Actor, record: OrderRecord, supplier_org_id: uuid.UUID,
                 site_id: uuid.UUID, drafts: list[OrderLineDraft]) -> uuid.UUID:
    async with session.begin_nested():
        order = await create_order(
            session, actor=actor, supplier_org_id=supplier_org_id, delivery_site_id=site_id,
            currency=record.currency, lines=drafts, source=OrderSource.ERP,
            reference=record.reference or record.external_id,
            terms=OrderTerms(payment_terms=record.payment_terms, requested_date=record.requested_date))
    return order.id


Progress = Callable[[int], Awaitable[None]]
PROGRESS_EVERY = 200


async def write_order_records(session: AsyncSession, *, actor: Actor, records: Sequence[tuple[int, OrderRecord]],
                              outcomes: Outcomes, progress: Progress) -> None:
    """Place a draft purchase order for every record that names known parties and materials."""
    suppliers = await _suppliers(session, {record.supplier_uscc for _, record in records})
    sites = await _sites(session, {record.delivery_site_code for _, record in records})
    materials = await materials_by_code(
        session, codes=sorted({line.material_code for _, record in records for line in record.lines}))
    for done, (index, record) in enumerate(records):
        if done and done % PROGRESS_EVERY == 0:
            await progress(done)
        drafts, problems = _drafts(record, materials)
        problems = _party_problems(record, suppliers, sites) + problems
        if problems:
            outcomes.rejected[index] = problems
            continue
        try:
            outcomes.created[index] = await _place(session, actor, record, suppliers[record.supplier_uscc],
                                                   sites[record.delivery_site_code], drafts)
        except TradeloomError as refused:
            outcomes.reject(index, Problem(_pointer(refused), refused.code, refused.message))


def _pointer(refused: TradeloomError) -> str:
    """The first field the orders module named (``/lines/2``), or the record itself."""
    return str(refused.errors[0].get("pointer", "")) if refused.errors else ""
