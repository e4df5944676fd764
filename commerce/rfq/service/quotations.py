"""Sealed quotations: an invited supplier quotes every line it wants, revises until the deadline, never after.

Each submission is a new revision (the earlier ones stay, marked superseded). The buyer cannot read any of
them before the deadline: the service refuses and row-level security hides the rows (migration 0010).
"""

import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.service.materials import get_material, pack_sizes_of
from catalog.units import PackSize, convert
from commerce.rfq.models import Quotation, QuotationLine, Rfq, RfqLine
from commerce.rfq.schemas import QuotationIn, QuotationLineIn
from commerce.rfq.service.requests import database_now, ensure_invited, ensure_open, get_rfq, rfq_lines
from tradeloom.audit import Actor, record_audit
from tradeloom.db import flush_or_conflict
from tradeloom.errors import Invalid, NotFound
from tradeloom.outbox.service import emit


@dataclass(frozen=True)
class QuotationView:
    quotation: Quotation
    lines: list[QuotationLine]


async def line_pack_sizes(session: AsyncSession, line: RfqLine) -> dict[str, PackSize]:
    """The pack sizes that convert a line's units (a catalogue material's; none for free text)."""
    if line.material_id is None:
        return {}
    return pack_sizes_of(await get_material(session, material_id=line.material_id))


def _check_tiers(index: int, line: QuotationLineIn) -> None:
    minimums = [tier.min_quantity for tier in line.price_tiers]
    if any(later <= earlier for earlier, later in itertools.pairwise(minimums)):
        raise Invalid("Price breaks must have strictly ascending min_quantity.", code="rfq.tiers_not_ascending",
                      errors=[{"pointer": f"/lines/{index}/price_tiers"}])


async def _check_lines(session: AsyncSession, rfq: Rfq, lines: Sequence[QuotationLineIn]) -> None:
    by_id = {line.id: line for line in await rfq_lines(session, rfq_id=rfq.id)}
    seen: set[tuple[uuid.UUID, str | None]] = set()
    for index, quoted in enumerate(lines):
        asked = by_id.get(quoted.rfq_line_id)
        if asked is None:
            raise Invalid("A quoted line is not a line of this RFQ.", code="rfq.unknown_line",
                          errors=[{"pointer": f"/lines/{index}/rfq_line_id"}])
        if (quoted.rfq_line_id, quoted.alternative) in seen:
            raise Invalid("A line is quoted twice (alternatives need their own description).",
                          code="rfq.duplicate_line", errors=[{"pointer": f"/lines/{index}"}])
        seen.add((quoted.rfq_line_id, quoted.alternative))
        _check_tiers(index, quoted)
        convert(asked.quantity, asked.unit, quoted.unit, pack_sizes=await line_pack_sizes(session, asked), places=6)


async def submit_quotation(
    session: AsyncSession, *, actor: Actor, rfq_id: uuid.UUID, fields: QuotationIn
) -> QuotationView:
    """Quote (or re-quote) an RFQ before its deadline; 409 ``rfq_closed`` after it."""
    rfq = await get_rfq(session, rfq_id=rfq_id)
    await ensure_invited(session, actor=actor, rfq=rfq)
    await ensure_open(session, rfq)
    if fields.currency != rfq.currency:
        raise Invalid(f"Quote in the RFQ's currency, {rfq.currency}.", code="rfq.wrong_currency",
                      errors=[{"pointer": "/currency"}])
    if fields.valid_until < (await database_now(session)).date():
        raise Invalid("valid_until is in the past.", code="rfq.quotation_expired", errors=[{"pointer": "/valid_until"}])
    await _check_lines(session, rfq, fields.lines)
    latest = await session.scalar(select(func.max(Quotation.revision)).where(
        Quotation.rfq_id == rfq.id, Quotation.org_id == actor.org_id))
    await session.execute(update(Quotation).where(
        Quotation.rfq_id == rfq.id, Quotation.org_id == actor.org_id, Quotation.status == "submitted",
    ).values(status="superseded"))
    quotation = Quotation(org_id=actor.org_id, rfq_id=rfq.id, buyer_org_id=rfq.org_id, sealed_until=rfq.deadline,
                          revision=(latest or 0) + 1, status="submitted",
                          **fields.model_dump(exclude={"lines"}))
    session.add(quotation)
    await flush_or_conflict(session, "Another revision was submitted at the same moment; submit again.",
                            "rfq.revision_conflict")
    await session.execute(insert(QuotationLine), [
        {"org_id": actor.org_id, "quotation_id": quotation.id, "rfq_line_id": line.rfq_line_id,
         "buyer_org_id": rfq.org_id, "sealed_until": rfq.deadline, "unit": line.unit,
         "price_tiers": [{"min_quantity": str(t.min_quantity), "unit_price": str(t.unit_price)}
                         for t in line.price_tiers],
         "lead_time_days": line.lead_time_days, "alternative": line.alternative}
        for line in fields.lines
    ])
    payload = {"rfq_id": str(rfq.id), "quotation_id": str(quotation.id), "revision": quotation.revision}
    await emit(session, org_id=actor.org_id, topic="quotation.submitted", payload=payload)
    await record_audit(session, actor=actor, action="quotation.submitted", object_type="quotation",
                       object_id=quotation.id, details=payload)
    return QuotationView(quotation, await quotation_lines(session, quotation_ids=[quotation.id]))


async def quotation_lines(session: AsyncSession, *, quotation_ids: Sequence[uuid.UUID]) -> list[QuotationLine]:
    query = select(QuotationLine).where(QuotationLine.quotation_id.in_(quotation_ids)).order_by(
        QuotationLine.quotation_id, QuotationLine.rfq_line_id, QuotationLine.alternative.nulls_first())
    return list((await session.scalars(query)).all())


async def own_quotations(session: AsyncSession, *, actor: Actor, rfq_id: uuid.UUID) -> list[QuotationView]:
    """A supplier's revisions for one RFQ, newest first."""
    rfq = await get_rfq(session, rfq_id=rfq_id)
    await ensure_invited(session, actor=actor, rfq=rfq)
    query = select(Quotation).where(Quotation.rfq_id == rfq.id, Quotation.org_id == actor.org_id).order_by(
        Quotation.revision.desc())
    found = list((await session.scalars(query)).all())
    lines = await quotation_lines(session, quotation_ids=[q.id for q in found])
    return [QuotationView(q, [line for line in lines if line.quotation_id == q.id]) for q in found]


async def get_quotation(session: AsyncSession, *, quotation_id: uuid.UUID) -> QuotationView:
    """A quotation the caller may read: its own, or (as buyer) one whose deadline has passed."""
    quotation = await session.get(Quotation, quotation_id)
    if quotation is None:
        raise NotFound("No such quotation.", code="rfq.quotation_not_found")
    return QuotationView(quotation, await quotation_lines(session, quotation_ids=[quotation.id]))


def tier_price(tiers: Sequence[dict[str, str]], quantity: Decimal) -> Decimal:
    """The unit price of the highest break not above ``quantity`` (the first break below it counts from 0)."""
    price = Decimal(tiers[0]["unit_price"])
    for tier in tiers:
        if Decimal(tier["min_quantity"]) <= quantity:
            price = Decimal(tier["unit_price"])
    return price
