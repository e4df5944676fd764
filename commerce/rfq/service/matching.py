"""Supply–demand matching: for each RFQ line, the suppliers ranked by how well they fit.

Ranking, in order: catalogue fit (an offer for the very material before an offer in the line's class),
price (the price engine's line total for the line's quantity, in the RFQ's currency; none ranks last),
lead time, rating (none yet: ``commerce/ratings`` will feed it), then supplier id for a stable order.
"""

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.service.offers import offers_in_classes
from catalog.service.pricing import quotes_for
from commerce.rfq.models import Rfq, RfqLine
from commerce.rfq.service.invitations import add_invitations
from commerce.rfq.service.requests import ensure_open, own_rfq, rfq_lines
from tradeloom.audit import Actor
from tradeloom.db import utcnow
from tradeloom.errors import Conflict

_NO_PRICE = Decimal("1E+30")
_NO_LEAD_TIME = 10**6


@dataclass(frozen=True)
class SupplierMatch:
    supplier_org_id: uuid.UUID
    fit: str  # material | class
    currency: str | None
    unit_price: Decimal | None  # per the line's unit
    line_total: Decimal | None
    lead_time_days: int | None
    rating: Decimal | None = None


@dataclass(frozen=True)
class LineMatches:
    line: RfqLine
    suppliers: list[SupplierMatch]


def _rank(match: SupplierMatch, currency: str) -> tuple[int, int, Decimal, int, Decimal, str]:
    priced = match.line_total is not None and match.currency == currency
    return (0 if match.fit == "material" else 1, 0 if priced else 1,
            match.line_total if priced and match.line_total is not None else _NO_PRICE,
            match.lead_time_days if match.lead_time_days is not None else _NO_LEAD_TIME,
            -(match.rating or Decimal(0)), str(match.supplier_org_id))


async def _material_matches(
    session: AsyncSession, rfq: Rfq, line: RfqLine, on_date: dt.date
) -> dict[uuid.UUID, SupplierMatch]:
    if line.material_id is None:
        return {}
    try:
        quotes = await quotes_for(session, buyer_org_id=rfq.org_id, material_id=line.material_id,
                                  quantity=line.quantity, unit=line.unit, on_date=on_date)
    except Conflict:  # the material is no longer purchasable: class fit only
        return {}
    found: dict[uuid.UUID, SupplierMatch] = {}
    for quote in quotes:  # best first: the first quote of a supplier is its best
        found.setdefault(quote.supplier_org_id, SupplierMatch(
            supplier_org_id=quote.supplier_org_id, fit="material", currency=quote.currency,
            unit_price=(quote.line_total / line.quantity).quantize(Decimal("0.0001")), line_total=quote.line_total,
            lead_time_days=quote.lead_time_days))
    return found


async def line_matches(session: AsyncSession, *, rfq: Rfq, lines: list[RfqLine]) -> list[LineMatches]:
    """Every line's suppliers, best first."""
    on_date = utcnow().date()
    class_offers = await offers_in_classes(session, class_codes=sorted({line.class_code for line in lines}),
                                           on_date=on_date)
    result = []
    for line in lines:
        found = await _material_matches(session, rfq, line, on_date)
        for offer, class_code in class_offers:
            if class_code != line.class_code or offer.org_id in found:
                continue
            found[offer.org_id] = SupplierMatch(offer.org_id, "class", None, None, None, offer.lead_time_days)
        result.append(LineMatches(line, sorted(found.values(), key=lambda m: _rank(m, rfq.currency))))
    return result


async def match_suppliers(session: AsyncSession, *, actor: Actor, rfq_id: uuid.UUID) -> list[LineMatches]:
    """The buyer's view of who could supply each line of its RFQ."""
    rfq = await own_rfq(session, actor=actor, rfq_id=rfq_id)
    return await line_matches(session, rfq=rfq, lines=await rfq_lines(session, rfq_id=rfq.id))


async def invite_top(session: AsyncSession, *, actor: Actor, rfq_id: uuid.UUID, top: int) -> list[uuid.UUID]:
    """Invite the best ``top`` suppliers of every line in one action; returns the newly invited."""
    rfq = await own_rfq(session, actor=actor, rfq_id=rfq_id)
    await ensure_open(session, rfq)
    matches = await line_matches(session, rfq=rfq, lines=await rfq_lines(session, rfq_id=rfq.id))
    chosen = {match.supplier_org_id for line in matches for match in line.suppliers[:top]}
    return await add_invitations(session, actor=actor, rfq=rfq, supplier_org_ids=sorted(chosen, key=str),
                                 source="matched")


async def invite(
    session: AsyncSession, *, actor: Actor, rfq_id: uuid.UUID, supplier_org_ids: list[uuid.UUID]
) -> list[uuid.UUID]:
    """Invite named suppliers while the RFQ is open; returns the newly invited."""
    rfq = await own_rfq(session, actor=actor, rfq_id=rfq_id)
    await ensure_open(session, rfq)
    return await add_invitations(session, actor=actor, rfq=rfq, supplier_org_ids=supplier_org_ids,
                                 source="invited")
