"""The comparison matrix, after the deadline only: lines × suppliers in the buyer's units and currency.

Quotations are in the RFQ's currency (enforced on submission), so normalising is a unit conversion through
the catalogue's units and the material's pack sizes. A cell's price is the break the line's quantity reaches;
the landed total of a supplier is its goods (main offers, not alternatives) plus its freight.
"""

import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.units import convert
from commerce.rfq.models import Quotation, QuotationLine, Rfq, RfqLine
from commerce.rfq.service.quotations import line_pack_sizes, quotation_lines, tier_price
from commerce.rfq.service.requests import database_now, own_rfq, rfq_lines
from tradeloom.audit import Actor
from tradeloom.errors import Conflict

_CENTS = Decimal("0.0001")


@dataclass(frozen=True)
class Cell:
    supplier_org_id: uuid.UUID
    quotation_line_id: uuid.UUID
    quoted_unit: str
    unit_price: Decimal  # per the buyer's unit
    line_total: Decimal
    lead_time_days: int
    alternative: str | None


@dataclass(frozen=True)
class ComparisonLine:
    line: RfqLine
    cells: list[Cell]


@dataclass(frozen=True)
class SupplierTotal:
    supplier_org_id: uuid.UUID
    quotation_id: uuid.UUID
    lines_quoted: int
    goods_total: Decimal
    freight: Decimal
    landed_total: Decimal


@dataclass(frozen=True)
class Comparison:
    rfq: Rfq
    lines: list[ComparisonLine]
    suppliers: list[SupplierTotal]


async def price_in_buyer_unit(
    session: AsyncSession, line: RfqLine, quoted: QuotationLine, quantity: Decimal
) -> tuple[Decimal, Decimal]:
    """(unit price per the line's unit, total) for ``quantity`` of the line's unit at the quoted breaks."""
    packs = await line_pack_sizes(session, line)
    in_quoted_unit = convert(quantity, line.unit, quoted.unit, pack_sizes=packs, places=6)
    price = tier_price(quoted.price_tiers, in_quoted_unit)
    total = (price * in_quoted_unit).quantize(_CENTS, rounding=ROUND_HALF_UP)
    per_unit = (price * convert(Decimal(1), line.unit, quoted.unit, pack_sizes=packs, places=6)).quantize(
        _CENTS, rounding=ROUND_HALF_UP)
    return per_unit, total


async def ensure_unsealed(session: AsyncSession, rfq: Rfq) -> None:
    if await database_now(session) < rfq.deadline:
        raise Conflict("Quotations stay sealed until the deadline.", code="rfq_sealed")


async def current_quotations(session: AsyncSession, *, rfq_id: uuid.UUID) -> list[Quotation]:
    query = select(Quotation).where(Quotation.rfq_id == rfq_id, Quotation.status == "submitted").order_by(
        Quotation.org_id)
    return list((await session.scalars(query)).all())


async def compare(session: AsyncSession, *, actor: Actor, rfq_id: uuid.UUID) -> Comparison:
    """The buyer's matrix; 409 ``rfq_sealed`` before the deadline."""
    rfq = await own_rfq(session, actor=actor, rfq_id=rfq_id)
    await ensure_unsealed(session, rfq)
    quotations = await current_quotations(session, rfq_id=rfq.id)
    supplier_of = {q.id: q.org_id for q in quotations}
    quoted_lines = await quotation_lines(session, quotation_ids=list(supplier_of))
    lines, goods = [], {q.id: Decimal(0) for q in quotations}
    counts = dict.fromkeys(goods, 0)
    for line in await rfq_lines(session, rfq_id=rfq.id):
        cells = []
        for quoted in (q for q in quoted_lines if q.rfq_line_id == line.id):
            unit_price, total = await price_in_buyer_unit(session, line, quoted, line.quantity)
            cells.append(Cell(supplier_of[quoted.quotation_id], quoted.id, quoted.unit, unit_price, total,
                              quoted.lead_time_days, quoted.alternative))
            if quoted.alternative is None:
                goods[quoted.quotation_id] += total
                counts[quoted.quotation_id] += 1
        lines.append(ComparisonLine(line, sorted(cells, key=lambda c: (c.line_total, c.lead_time_days,
                                                                          str(c.supplier_org_id)))))
    totals = [SupplierTotal(q.org_id, q.id, counts[q.id], goods[q.id], q.freight, goods[q.id] + q.freight)
              for q in quotations]
    return Comparison(rfq, lines, sorted(totals, key=lambda t: (-t.lines_quoted, t.landed_total)))
