"""Award: after the deadline the buyer gives each line (whole, or split in parts) to quoting suppliers.

Per supplier the awarded parts become one purchase order (through the ``OrderPlacer`` port) or one spot
contract awaiting both signatures. Every invitee that quoted is told: ``rfq.awarded`` to the winners,
``rfq.lost`` to the others (outbox events naming the supplier).
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.service.materials import get_material, pack_sizes_of
from catalog.units import convert
from commerce.contracts.schemas import ContractCreate, ContractItemIn, ContractKind
from commerce.contracts.service.lifecycle import create_contract
from commerce.order_port import OrderLineDraft, OrderPlacer, OrderSource, require_placer
from commerce.rfq.models import QuotationLine, Rfq, RfqAward, RfqLine
from commerce.rfq.schemas import AwardIn, AwardLineIn, AwardOutcome, RfqStatus
from commerce.rfq.service.comparison import current_quotations, ensure_unsealed, price_in_buyer_unit
from commerce.rfq.service.quotations import quotation_lines
from commerce.rfq.service.requests import own_rfq, rfq_lines
from tradeloom.audit import Actor, record_audit
from tradeloom.concurrency import check_version
from tradeloom.errors import Conflict, Invalid
from tradeloom.outbox.service import emit


@dataclass(frozen=True)
class _Part:
    line: RfqLine
    quoted: QuotationLine
    supplier_org_id: uuid.UUID
    quantity: Decimal
    unit_price: Decimal  # per the line's unit


async def _parts(session: AsyncSession, rfq: Rfq, wanted: list[AwardLineIn]) -> list[_Part]:
    """Each awarded part checked: a current quotation's line, and no line awarded beyond its quantity."""
    quotations = {q.id: q.org_id for q in await current_quotations(session, rfq_id=rfq.id)}
    quoted = {q.id: q for q in await quotation_lines(session, quotation_ids=list(quotations))}
    lines = {line.id: line for line in await rfq_lines(session, rfq_id=rfq.id)}
    parts: list[_Part] = []
    awarded: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    for index, part in enumerate(wanted):
        quoted_line = quoted.get(part.quotation_line_id)
        if quoted_line is None:
            raise Invalid("An awarded line is not in a current quotation of this RFQ.",
                          code="rfq.unknown_quotation_line", errors=[{"pointer": f"/lines/{index}/quotation_line_id"}])
        line = lines[quoted_line.rfq_line_id]
        awarded[line.id] += part.quantity
        if awarded[line.id] > line.quantity:
            raise Invalid(f"Line {line.line_no} is awarded {awarded[line.id]} {line.unit}, more than the "
                          f"{line.quantity} asked.", code="rfq.award_exceeds_line",
                          errors=[{"pointer": f"/lines/{index}"}])
        unit_price, _ = await price_in_buyer_unit(session, line, quoted_line, part.quantity)
        parts.append(_Part(line, quoted_line, quotations[quoted_line.quotation_id], part.quantity, unit_price))
    return parts


async def _place_order(session: AsyncSession, actor: Actor, rfq: Rfq, supplier: uuid.UUID, parts: list[_Part],
                       placer: OrderPlacer) -> str:
    order = await placer.create_order(
        session, actor=actor, supplier_org_id=supplier, delivery_site_id=rfq.delivery_site_id, currency=rfq.currency,
        source=OrderSource("rfq_award", rfq.id), reference=f"rfq:{rfq.id}",
        lines=[OrderLineDraft(material_id=p.line.material_id, description=p.quoted.alternative or p.line.description,
                              quantity=p.quantity, unit=p.line.unit, unit_price=p.unit_price,
                              required_date=p.line.required_date) for p in parts])
    return f"order:{order.id}"


async def _contract_item(session: AsyncSession, part: _Part) -> ContractItemIn:
    """Spot contracts price per base unit of a catalogue material."""
    if part.line.material_id is None:
        raise Invalid(f"Line {part.line.line_no} is free text: award it to an order, or add the material to the "
                      "catalogue first.", code="rfq.contract_needs_material")
    material = await get_material(session, material_id=part.line.material_id)
    packs = pack_sizes_of(material)
    base_quantity = convert(part.quantity, part.line.unit, material.base_unit, pack_sizes=packs, places=6)
    per_base = (part.unit_price * convert(Decimal(1), material.base_unit, part.line.unit, pack_sizes=packs,
                                          places=6)).quantize(Decimal("0.0001"))
    return ContractItemIn(material_id=material.id, unit_price=per_base, quantity_cap=base_quantity)


async def _sign_up_contract(session: AsyncSession, actor: Actor, rfq: Rfq, supplier: uuid.UUID,
                            parts: list[_Part]) -> str:
    items = [await _contract_item(session, part) for part in parts]
    if len({item.material_id for item in items}) != len(items):
        raise Invalid("One supplier is awarded the same material twice; award it as one part.",
                      code="rfq.duplicate_contract_material")
    required = min(part.line.required_date for part in parts)
    view = await create_contract(session, actor=actor, rfq_id=rfq.id, fields=ContractCreate(
        supplier_org_id=supplier, kind=ContractKind.SPOT, currency=rfq.currency, title=rfq.title,
        valid_from=min(required, rfq.deadline.date()), valid_to=None, terms_text=rfq.terms, items=items))
    return f"contract:{view.contract.id}"


async def award_rfq(
    session: AsyncSession, *, actor: Actor, rfq_id: uuid.UUID, expected_version: int, fields: AwardIn,
    placer: OrderPlacer | None,
) -> list[RfqAward]:
    """Award after the deadline, once; every quoting supplier learns whether it won."""
    rfq = await own_rfq(session, actor=actor, rfq_id=rfq_id)
    check_version(rfq.version, expected_version)
    await ensure_unsealed(session, rfq)
    if rfq.status != RfqStatus.OPEN:
        raise Conflict("This RFQ was already awarded.", code="rfq.already_awarded")
    if fields.outcome == AwardOutcome.ORDER:
        require_placer(placer)  # refuse before anything is written
    by_supplier: dict[uuid.UUID, list[_Part]] = defaultdict(list)
    for part in await _parts(session, rfq, fields.lines):
        by_supplier[part.supplier_org_id].append(part)
    awards = []
    for supplier, parts in sorted(by_supplier.items(), key=lambda entry: str(entry[0])):
        if fields.outcome == AwardOutcome.ORDER:
            reference = await _place_order(session, actor, rfq, supplier, parts, require_placer(placer))
        else:
            reference = await _sign_up_contract(session, actor, rfq, supplier, parts)
        awards += [RfqAward(org_id=rfq.org_id, rfq_id=rfq.id, rfq_line_id=p.line.id, quotation_line_id=p.quoted.id,
                            supplier_org_id=supplier, quantity=p.quantity, unit=p.line.unit, unit_price=p.unit_price,
                            currency=rfq.currency, outcome=fields.outcome.value, reference=reference) for p in parts]
    session.add_all(awards)
    rfq.status = RfqStatus.AWARDED.value
    await session.flush()
    await _notify(session, actor, rfq, winners=set(by_supplier))
    return awards


async def _notify(session: AsyncSession, actor: Actor, rfq: Rfq, *, winners: set[uuid.UUID]) -> None:
    quoted = {q.org_id for q in await current_quotations(session, rfq_id=rfq.id)}
    for supplier in sorted(quoted | winners, key=str):
        topic = "rfq.awarded" if supplier in winners else "rfq.lost"
        await emit(session, org_id=rfq.org_id, topic=topic,
                   payload={"rfq_id": str(rfq.id), "supplier_org_id": str(supplier)})
    await record_audit(session, actor=actor, action="rfq.awarded", object_type="rfq", object_id=rfq.id,
                       details={"winners": sorted(str(w) for w in winners)})


async def awards_of(session: AsyncSession, *, rfq_id: uuid.UUID) -> list[RfqAward]:
    """The awards of an RFQ the caller sees (the buyer: all; a supplier: its own)."""
    query = select(RfqAward).where(RfqAward.rfq_id == rfq_id).order_by(RfqAward.created_at, RfqAward.id)
    return list((await session.scalars(query)).all())
