"""Supply–demand matching: for each RFQ line, the suppliers ranked by how well they fit.

Each supplier gets a match score out of 100, the sum of five weighted parts (``RANK_WEIGHTS``):

- catalogue fit (25): an offer for the very material counts 1, an offer in the line's class 0.5;
- price (35): the cheapest priced line total ÷ this supplier's (price engine, the RFQ's currency); unpriced 0;
- rating (20): the supplier's platform-wide performance score ÷ 100 (``commerce.supplier_performance``); a
  supplier without history gets the neutral prior 50, not zero;
- lead time (10): the shortest lead time ÷ this supplier's (at least one day each); none known 0;
- capacity (10): the share of the line's quantity the supplier holds in stock for the offered material now
  (``offer_stock``, fed by logistics), at most 1; class fits and suppliers without stock figures 0.

Ties go to the supplier id, for a stable order. The parts are kept on the match to explain the ranking.
"""

import datetime as dt
import uuid
from dataclasses import dataclass, field, replace
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.service.offers import offers_in_classes, stock_of_offers
from catalog.service.pricing import quotes_for
from commerce.rfq.models import Rfq, RfqLine
from commerce.rfq.service.invitations import add_invitations
from commerce.rfq.service.requests import ensure_open, own_rfq, rfq_lines
from commerce.supplier_performance.service import ratings_for
from tradeloom.audit import Actor
from tradeloom.db import utcnow
from tradeloom.errors import Conflict

RANK_WEIGHTS: dict[str, Decimal] = {"fit": Decimal(25), "price": Decimal(35), "rating": Decimal(20),
                                     "lead_time": Decimal(10), "capacity": Decimal(10)}
_FIT = {"material": Decimal(1), "class": Decimal("0.5")}
_TENTH = Decimal("0.1")


@dataclass(frozen=True)
class SupplierMatch:
    supplier_org_id: uuid.UUID
    fit: str  # material | class
    currency: str | None
    unit_price: Decimal | None  # per the line's unit
    line_total: Decimal | None
    lead_time_days: int | None
    rating: Decimal | None = None  # stars 1–5 (3.0: no history yet)
    rating_score: Decimal | None = None  # 0–100
    rated: bool = False  # False: the neutral prior stands in for a history
    stock_cover: Decimal | None = None  # stock on hand ÷ the line's quantity, at most 1 (None: not known)
    match_score: Decimal = Decimal(0)  # 0–100, the sum of ``parts``
    parts: dict[str, Decimal] = field(default_factory=dict)  # points per RANK_WEIGHTS factor


@dataclass(frozen=True)
class LineMatches:
    line: RfqLine
    suppliers: list[SupplierMatch]


def _priced(match: SupplierMatch, currency: str) -> Decimal | None:
    return match.line_total if match.currency == currency and match.line_total else None


def rank(matches: list[SupplierMatch], currency: str) -> list[SupplierMatch]:
    """Score every match against the line's best price and lead time, best first."""
    prices = [price for match in matches if (price := _priced(match, currency)) is not None]
    leads = [max(match.lead_time_days, 1) for match in matches if match.lead_time_days is not None]
    scored = []
    for match in matches:
        price = _priced(match, currency)
        shares = {"fit": _FIT[match.fit],
                  "price": min(prices) / price if price is not None else Decimal(0),
                  "rating": (match.rating_score if match.rating_score is not None else Decimal(50)) / 100,
                  "lead_time": Decimal(min(leads)) / max(match.lead_time_days, 1)
                  if match.lead_time_days is not None else Decimal(0),
                  "capacity": match.stock_cover or Decimal(0)}
        parts = {name: (RANK_WEIGHTS[name] * share).quantize(_TENTH) for name, share in shares.items()}
        scored.append(replace(match, parts=parts, match_score=sum(parts.values(), Decimal(0))))
    return sorted(scored, key=lambda m: (-m.match_score, str(m.supplier_org_id)))


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
    stock = await stock_of_offers(session, offer_ids=[quote.offer_id for quote in quotes if quote.offer_id])
    found: dict[uuid.UUID, SupplierMatch] = {}
    for quote in quotes:  # best first: the first quote of a supplier is its best
        in_stock = stock.get(quote.offer_id) if quote.offer_id else None
        found.setdefault(quote.supplier_org_id, SupplierMatch(
            supplier_org_id=quote.supplier_org_id, fit="material", currency=quote.currency,
            unit_price=(quote.line_total / line.quantity).quantize(Decimal("0.0001")), line_total=quote.line_total,
            lead_time_days=quote.lead_time_days,
            stock_cover=min(in_stock / quote.quantity_in_order_unit, Decimal(1)) if in_stock is not None else None))
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
        result.append(LineMatches(line, list(found.values())))
    return await _rated(session, result, rfq.currency, on_date)


async def _rated(session: AsyncSession, lines: list[LineMatches], currency: str, on_date: dt.date
                 ) -> list[LineMatches]:
    """Add each supplier's rating (one query for all suppliers of all lines), then rank every line."""
    suppliers = sorted({m.supplier_org_id for line in lines for m in line.suppliers}, key=str)
    ratings = await ratings_for(session, supplier_org_ids=suppliers, as_of=on_date)
    return [LineMatches(line.line, rank([replace(m, rating=ratings[m.supplier_org_id].stars,
                                                 rating_score=ratings[m.supplier_org_id].score,
                                                 rated=ratings[m.supplier_org_id].has_history)
                                         for m in line.suppliers], currency)) for line in lines]


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
