"""What we send a partner when an order it placed by EDI moves on: ORDRSP when the supplier confirms, a
DESADV for every shipment dispatched against it (a partial delivery sends its own, with the SSCC of every
parcel and pallet), an INVOIC for every invoice, credit note (BGM 381) and debit note (383) issued for it.

Sending is idempotent per document and message type (the order for ORDRSP, the shipment for DESADV, the
invoice for INVOIC): an outbox event delivered twice sends one interchange.
"""

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydifact.segments import Segment
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.service.materials import materials_by_id
from commerce.logistics.models import ShipmentItem
from commerce.logistics.service.queries import ShipmentView, shipment_view
from commerce.orders.models import OrderLine
from commerce.orders.service.queries import order_detail
from commerce.settlement.invoices import invoice_lines, load_invoice
from integrations.edi.messages_out import (
    DespatchFacts,
    DespatchLineFacts,
    InvoiceFacts,
    InvoiceLineFacts,
    LineFacts,
    OrderFacts,
    PackageFacts,
    PickedFacts,
    despatch_advice,
    invoice,
    order_response,
)
from integrations.edi.models import EdiInterchange, EdiOrder
from integrations.edi.service import get_partner, send_interchange
from integrations.edi.sscc import ssccs_of
from tradeloom.db import utcnow
from tradeloom.identity.service import get_organization

INVOICE_TOPICS = ("invoice.issued", "credit_note.issued", "debit_note.issued")
DOCUMENT_CODES = {"invoice": "380", "credit_note": "381", "debit_note": "383"}  # BGM 1001


@dataclass(frozen=True)
class Subject:
    """What an event is about: the order placed by EDI, and the document the message is written from."""

    order_ids: tuple[uuid.UUID, ...]
    document_id: uuid.UUID


Body = Callable[[AsyncSession, uuid.UUID, str], Awaitable[tuple[str, list[Segment]]]]


async def _usccs(session: AsyncSession, buyer_org_id: uuid.UUID, supplier_org_id: uuid.UUID) -> tuple[str, str]:
    return (await get_organization(session, buyer_org_id)).uscc, (await get_organization(session, supplier_org_id)).uscc


async def _gtins(session: AsyncSession, material_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str | None]:
    materials = await materials_by_id(session, material_ids=list(set(material_ids)))
    return {material_id: material.gtin for material_id, material in materials.items()}


async def order_facts(session: AsyncSession, *, order_id: uuid.UUID, partner_order_number: str) -> OrderFacts:
    """The order as the ORDRSP builder takes it."""
    detail = await order_detail(session, order_id=order_id)
    order = detail.order
    gtins = await _gtins(session, (line.material_id for line in detail.lines))
    buyer_uscc, supplier_uscc = await _usccs(session, order.buyer_org_id, order.supplier_org_id)
    lines = tuple(LineFacts(
        line_no=line.line_no, material_code=line.material_code, gtin=gtins[line.material_id], quantity=line.quantity,
        unit=line.unit, unit_price=line.unit_price, confirmed_quantity=line.confirmed_quantity,
        confirmed_date=line.confirmed_date,
    ) for line in detail.lines)
    return OrderFacts(number=order.number, partner_order_number=partner_order_number, currency=order.currency,
                      buyer_uscc=buyer_uscc, supplier_uscc=supplier_uscc, lines=lines)


async def _line_numbers(session: AsyncSession, order_line_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = await session.execute(select(OrderLine.id, OrderLine.line_no).where(OrderLine.id.in_(set(order_line_ids))))
    return {line_id: line_no for line_id, line_no in rows.all()}


def _packed_lines(view: ShipmentView, items: list[ShipmentItem], line_numbers: Mapping[uuid.UUID, int],
                  gtins: Mapping[uuid.UUID, str | None]) -> tuple[DespatchLineFacts, ...]:
    """The shipment lines that have items among ``items`` (one package's, or the loose ones), with their
    quantities and batches/serials."""
    lines = []
    for line in view.lines:
        picked = [item for item in items if item.shipment_line_id == line.id]
        if picked:
            lines.append(DespatchLineFacts(
                line_no=line_numbers[line.order_line_id], material_code=line.material_code,
                gtin=gtins[line.material_id], quantity=sum((item.quantity for item in picked), Decimal(0)),
                unit=line.unit, picked=tuple(PickedFacts(item.batch, item.serial, item.quantity) for item in picked)))
    return tuple(lines)


async def despatch_facts(session: AsyncSession, *, shipment_id: uuid.UUID, partner_order_number: str) -> DespatchFacts:
    """One dispatched shipment as the DESADV builder takes it: what travels loose and what is in each package."""
    view = await shipment_view(session, shipment_id=shipment_id)
    shipment = view.shipment
    order = (await order_detail(session, order_id=shipment.order_id)).order
    line_numbers = await _line_numbers(session, (line.order_line_id for line in view.lines))
    gtins = await _gtins(session, (line.material_id for line in view.lines))
    labels = {package.id: package.label for package in view.packages}
    ssccs = await ssccs_of(session, shipment_id=shipment_id)
    packages = tuple(PackageFacts(
        label=package.label, kind=package.kind, parent=labels.get(package.parent_id) if package.parent_id else None,
        lines=_packed_lines(view, [item for item in view.items if item.package_id == package.id], line_numbers, gtins),
        sscc=ssccs.get(package.id),
    ) for package in sorted(view.packages, key=lambda p: p.kind != "pallet"))
    loose = _packed_lines(view, [item for item in view.items if item.package_id is None], line_numbers, gtins)
    buyer_uscc, supplier_uscc = await _usccs(session, shipment.buyer_org_id, shipment.supplier_org_id)
    return DespatchFacts(number=shipment.number, despatch_date=(shipment.dispatched_at or utcnow()).date(),
                         partner_order_number=partner_order_number, buyer_uscc=buyer_uscc,
                         supplier_uscc=supplier_uscc, currency=order.currency, loose=loose, packages=packages)


async def invoice_facts(session: AsyncSession, *, invoice_id: uuid.UUID, partner_order_number: str) -> InvoiceFacts:
    """One issued invoice as the INVOIC builder takes it: its fapiao number, lines and VAT."""
    document = await load_invoice(session, invoice_id)
    original = await load_invoice(session, document.corrects_invoice_id) if document.corrects_invoice_id else None
    rows = await invoice_lines(session, invoice_id)
    line_numbers = await _line_numbers(session, (row.order_line_id for row in rows))
    materials = await session.execute(select(OrderLine.id, OrderLine.material_id)
                                      .where(OrderLine.id.in_([row.order_line_id for row in rows])))
    material_of = {line_id: material_id for line_id, material_id in materials}
    gtins = await _gtins(session, material_of.values())
    lines = tuple(InvoiceLineFacts(
        line_no=line_numbers[row.order_line_id], material_code=row.material_code,
        gtin=gtins[material_of[row.order_line_id]], quantity=row.quantity, unit=row.unit, unit_price=row.unit_price,
        tax_rate=row.tax_rate, net=row.net, tax=row.tax,
    ) for row in rows)
    return InvoiceFacts(fapiao_number=document.fapiao_number, issue_date=document.issue_date,
                        partner_order_number=partner_order_number, buyer_uscc=document.buyer_uscc,
                        supplier_uscc=document.seller_uscc, currency=document.currency,
                        net_total=document.net_total, tax_total=document.tax_total,
                        gross_total=document.gross_total, lines=lines, document_code=DOCUMENT_CODES[document.kind],
                        original_fapiao_number=original.fapiao_number if original else None,
                        original_issue_date=original.issue_date if original else None)


async def _ordrsp(session: AsyncSession, order_id: uuid.UUID, partner_order_number: str) -> tuple[str, list[Segment]]:
    facts = await order_facts(session, order_id=order_id, partner_order_number=partner_order_number)
    return f"ORDRSP for order {facts.number}", order_response(facts, utcnow().date())


async def _desadv(session: AsyncSession, shipment_id: uuid.UUID, partner_order_number: str
                  ) -> tuple[str, list[Segment]]:
    facts = await despatch_facts(session, shipment_id=shipment_id, partner_order_number=partner_order_number)
    return f"DESADV for shipment {facts.number}", despatch_advice(facts, utcnow().date())


async def _invoic(session: AsyncSession, invoice_id: uuid.UUID, partner_order_number: str
                  ) -> tuple[str, list[Segment]]:
    facts = await invoice_facts(session, invoice_id=invoice_id, partner_order_number=partner_order_number)
    what = {"381": "credit note", "383": "debit note"}.get(facts.document_code, "fapiao")
    return f"INVOIC for {what} {facts.fapiao_number}", invoice(facts, utcnow().date())


async def _subject(session: AsyncSession, topic: str, payload: Mapping[str, Any]) -> Subject:
    if topic in INVOICE_TOPICS:
        invoice_id = uuid.UUID(str(payload["invoice_id"]))
        rows = await invoice_lines(session, invoice_id)
        return Subject(tuple(dict.fromkeys(row.order_id for row in rows)), invoice_id)
    order_id = uuid.UUID(str(payload["order_id"]))
    if topic == "shipment.dispatched":
        return Subject((order_id,), uuid.UUID(str(payload["shipment_id"])))
    return Subject((order_id,), order_id)


MESSAGE_FOR_TOPIC: dict[str, tuple[str, Body]] = {
    "order.confirmed": ("ORDRSP", _ordrsp),
    "shipment.dispatched": ("DESADV", _desadv),
    "invoice.issued": ("INVOIC", _invoic),
    "credit_note.issued": ("INVOIC", _invoic),
    "debit_note.issued": ("INVOIC", _invoic),
}


async def send_for_event(session: AsyncSession, *, topic: str, payload: Mapping[str, Any]) -> EdiInterchange | None:
    """The interchange this event sends to the partner that placed the order, if any (None otherwise)."""
    if topic not in MESSAGE_FOR_TOPIC:
        return None
    subject = await _subject(session, topic, payload)
    link = await session.scalar(select(EdiOrder).where(EdiOrder.purchase_order_id.in_(subject.order_ids))
                                .order_by(EdiOrder.created_at).limit(1))
    if link is None:
        return None
    kind, body = MESSAGE_FOR_TOPIC[topic]
    partner = await get_partner(session, partner_id=link.partner_id)
    if not partner.is_active or kind not in partner.messages:
        return None
    sent = await session.scalar(select(EdiInterchange).where(
        EdiInterchange.source_document_id == subject.document_id, EdiInterchange.message_types.contains([kind])))
    if sent is not None:
        return sent
    detail, segments = await body(session, subject.document_id, link.document_number)
    return await send_interchange(session, partner=partner, messages=[(kind, segments)],
                                  source_order_id=link.purchase_order_id, source_document_id=subject.document_id,
                                  detail=detail)
