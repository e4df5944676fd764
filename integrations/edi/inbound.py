"""Receiving an interchange: syntax check (CONTRL on failure), duplicate refusal, then each ORDERS message
becomes a submitted purchase order — or is rejected with its reason while the other messages go through.

Each message runs in its own savepoint, so a rejected message leaves nothing behind. Prices come from the
price engine (contract price lists first); a PRI the partner sends must agree with it, or the message is
rejected: an ERP and the platform that disagree on the price must not silently produce an order.
"""

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Material, SupplierOffer
from catalog.service.materials import materials_by_code, materials_by_id
from commerce.orders.service.create import CartLine, OrderTerms, create_order_from_cart
from commerce.orders.service.queries import order_detail
from commerce.orders.service.transitions import submit_order
from integrations.edi.messages_out import order_rejection, syntax_report
from integrations.edi.models import EdiInterchange, EdiOrder, EdiPartner
from integrations.edi.orders_in import EdiRejection, ItemId, OrdersDocument, order_number_of, read_orders
from integrations.edi.service import partner_by_identity, send_interchange
from integrations.edi.syntax import EdiSyntaxError, Interchange, Message, read_envelope, read_interchange
from tradeloom.audit import Actor, record_audit
from tradeloom.db import flush_or_conflict, utcnow
from tradeloom.errors import Invalid, TradeloomError
from tradeloom.identity.models import Organization
from tradeloom.sites.models import Site

MAX_INTERCHANGE_CHARACTERS = 2_000_000


@dataclass(frozen=True)
class MessageOutcome:
    reference: str
    document_number: str
    accepted: bool
    order_id: uuid.UUID | None = None
    order_number: str | None = None
    reason: str | None = None
    code: str | None = None


@dataclass
class InboundResult:
    """The interchange taken, with each message's outcome; or, for a syntax error, the CONTRL we answered."""

    interchange: EdiInterchange
    messages: list[MessageOutcome] = field(default_factory=list)
    syntax_error: EdiSyntaxError | None = None


async def receive_interchange(session: AsyncSession, *, actor: Actor, text: str,
                              filename: str | None = None) -> InboundResult:
    """Take one interchange from a partner of the actor's organization.

    A syntax error answers with a CONTRL (queued for the partner, returned as ``interchange``) and takes
    nothing; an interchange reference seen before is 409 ``edi_interchange_duplicate``.
    """
    if len(text) > MAX_INTERCHANGE_CHARACTERS:
        raise Invalid(f"An interchange may hold at most {MAX_INTERCHANGE_CHARACTERS} characters.",
                      code="edi_interchange_too_large")
    envelope = read_envelope(text)
    partner = await partner_by_identity(session, envelope.sender) if envelope else None
    if envelope is None or partner is None:
        who = f"{envelope.sender.id}:{envelope.sender.qualifier}" if envelope else "an unreadable UNB"
        raise Invalid(f"No active EDI partner of your organization sends as {who}.", code="edi_partner_unknown")
    try:
        interchange = read_interchange(text)
        _check_recipient(interchange, partner)
    except EdiSyntaxError as error:
        contrl = await send_interchange(session, partner=partner, messages=[("CONTRL", syntax_report(error, envelope))],
                                        directory="D3", detail=f"Rejected interchange {envelope.control_reference}: "
                                                               f"{error.detail}"[:1000])
        return InboundResult(contrl, syntax_error=error)
    record = await _record(session, partner, interchange, text, filename)
    result = InboundResult(record)
    for message in interchange.messages:
        result.messages.append(await _take_message(session, actor, partner, record, message))
    _summarize(record, result.messages)
    await _answer_rejections(session, partner, result.messages)
    await record_audit(session, actor=actor, action="edi.interchange_received", object_type="edi_interchange",
                       object_id=str(record.id), details={"status": record.status,
                                                          "reference": interchange.control_reference})
    return result


def _check_recipient(interchange: Interchange, partner: EdiPartner) -> None:
    if (interchange.recipient.id, interchange.recipient.qualifier) != (partner.our_id, partner.our_qualifier):
        raise EdiSyntaxError("7", f"The interchange is addressed to {interchange.recipient.id}:"
                                  f"{interchange.recipient.qualifier}, not to us ({partner.our_id}:"
                                  f"{partner.our_qualifier}).")


async def _record(session: AsyncSession, partner: EdiPartner, interchange: Interchange, text: str,
                  filename: str | None) -> EdiInterchange:
    record = EdiInterchange(
        id=uuid.uuid4(), org_id=partner.org_id, partner_id=partner.id, direction="in",
        control_reference=interchange.control_reference,
        message_types=sorted({message.type for message in interchange.messages}), status="received",
        filename=filename, content=text, created_at=utcnow(),
    )
    session.add(record)
    await flush_or_conflict(session, f"Interchange {interchange.control_reference} from {partner.name} was already "
                                     "received; send a new interchange control reference.",
                            "edi_interchange_duplicate")
    return record


def _summarize(record: EdiInterchange, outcomes: list[MessageOutcome]) -> None:
    accepted = sum(outcome.accepted for outcome in outcomes)
    record.status = "accepted" if accepted == len(outcomes) else "rejected" if accepted == 0 else "partial"
    reasons = [f"{outcome.reference}: {outcome.reason}" for outcome in outcomes if outcome.reason]
    record.detail = "; ".join(reasons)[:1000] or None


async def _answer_rejections(session: AsyncSession, partner: EdiPartner, outcomes: list[MessageOutcome]) -> None:
    """One ORDRSP "not accepted" per rejected order, when the partner takes ORDRSP: folder and download users
    learn the reason the way they learn everything else, by EDI."""
    rejected = [outcome for outcome in outcomes if not outcome.accepted]
    if rejected and "ORDRSP" in partner.messages:
        today = utcnow().date()
        await send_interchange(session, partner=partner, detail="Rejected orders: " + ", ".join(
            outcome.document_number for outcome in rejected)[:900], messages=[
            ("ORDRSP", order_rejection(outcome.document_number, outcome.reason or "", today)) for outcome in rejected])


async def _take_message(session: AsyncSession, actor: Actor, partner: EdiPartner, record: EdiInterchange,
                        message: Message) -> MessageOutcome:
    number = order_number_of(message)
    try:
        async with session.begin_nested():
            if "ORDERS" not in partner.messages:
                raise EdiRejection("ORDERS is not switched on for this partner.", code="edi_message_not_agreed")
            document = read_orders(message)
            order_id, placed_number = await _place(session, actor, partner, document)
            session.add(EdiOrder(id=uuid.uuid4(), org_id=partner.org_id, partner_id=partner.id,
                                 interchange_id=record.id, message_reference=message.reference,
                                 document_number=document.number, purchase_order_id=order_id))
            await flush_or_conflict(session, f"Order {document.number} was already received from this partner.",
                                    "edi_order_duplicate")
    except EdiRejection as rejection:
        return MessageOutcome(message.reference, number, False, reason=rejection.reason, code=rejection.code)
    except TradeloomError as error:
        return MessageOutcome(message.reference, number, False, reason=error.message, code=error.code)
    return MessageOutcome(message.reference, number, True, order_id=order_id, order_number=placed_number)


async def _place(session: AsyncSession, actor: Actor, partner: EdiPartner,
                 document: OrdersDocument) -> tuple[uuid.UUID, str]:
    supplier_id = await _supplier(session, document)
    codes = [await _material_code(session, line.line_number, line.item_ids, supplier_id) for line in document.lines]
    cart = [CartLine(material_code=code, quantity=line.quantity or Decimal(0), unit=line.unit or "",
                     requested_date=line.delivery_date) for code, line in zip(codes, document.lines, strict=True)]
    order = await create_order_from_cart(
        session, actor=actor, supplier_org_id=supplier_id,
        delivery_site_id=await _delivery_site(session, partner, document), lines=cart,
        terms=OrderTerms(requested_date=document.delivery_date), on_date=document.document_date,
    )
    order.reference = f"EDI {document.number}"[:100]
    detail = await order_detail(session, order_id=order.id)
    _check_agreement(document, order.currency, [(line.unit, line.unit_price) for line in detail.lines])
    submitted = await submit_order(session, actor=actor, order_id=order.id, expected_version=order.version,
                                   note=f"EDI ORDERS {document.number} from {partner.name}")
    return submitted.id, submitted.number


def _check_agreement(document: OrdersDocument, currency: str, priced: list[tuple[str, Decimal]]) -> None:
    """Currency and any stated prices must be what the platform's price engine gives."""
    if document.currency and document.currency != currency:
        raise EdiRejection(f"The order is in {document.currency}; the supplier's prices are in {currency}.",
                           code="edi_currency_mismatch")
    for line, (unit, unit_price) in zip(document.lines, priced, strict=True):
        if line.price is not None and line.unit == unit and line.price != unit_price:
            raise EdiRejection(f"Line {line.line_number}: price {line.price} differs from the agreed "
                               f"{unit_price.normalize()} {currency}.", code="edi_price_mismatch")


async def _supplier(session: AsyncSession, document: OrdersDocument) -> uuid.UUID:
    uscc = document.parties.get("SU")
    if not uscc:
        raise EdiRejection("NAD+SU (the supplier) is missing.", code="edi_supplier_missing")
    supplier = await session.scalar(select(Organization.id).where(Organization.uscc == uscc,
                                                                  Organization.is_active))
    if supplier is None:
        raise EdiRejection(f"NAD+SU {uscc} names no supplier on the platform (use its unified social credit "
                           "code).", code="edi_supplier_unknown")
    return supplier


async def _delivery_site(session: AsyncSession, partner: EdiPartner, document: OrdersDocument) -> uuid.UUID:
    code = document.parties.get("DP") or document.parties.get("ST")
    if code:
        site = await session.scalar(select(Site.id).where(Site.code == code, Site.is_active))
        if site is None:
            raise EdiRejection(f"NAD+DP {code} is none of your delivery sites' codes.", code="edi_site_unknown")
        return site
    if partner.delivery_site_id is None:
        raise EdiRejection("No NAD+DP delivery party and no default delivery site set for the partner.",
                           code="edi_site_missing")
    return partner.delivery_site_id


async def _material_code(session: AsyncSession, line_number: str, item_ids: tuple[ItemId, ...],
                         supplier_id: uuid.UUID) -> str:
    """Our material code for the first of the line's item numbers that names one."""
    for item in item_ids:
        if code := await _lookup(session, item, supplier_id):
            return code
    tried = ", ".join(f"{item.code} ({item.kind})" for item in item_ids) or "no item number"
    raise EdiRejection(f"Line {line_number}: no material matches {tried}.", code="edi_material_unknown")


async def _lookup(session: AsyncSession, item: ItemId, supplier_id: uuid.UUID) -> str | None:
    if item.kind in {"EN", "SRV"}:
        return await session.scalar(select(Material.code).where(Material.gtin == item.code))
    if item.kind == "SA":
        material_id = await session.scalar(select(SupplierOffer.material_id).where(
            SupplierOffer.org_id == supplier_id, SupplierOffer.supplier_part_number == item.code))
        found = await materials_by_id(session, material_ids=[material_id]) if material_id else {}
        return found[material_id].code if material_id in found else None
    found_by_code = await materials_by_code(session, codes=[item.code])
    return found_by_code[item.code].material.code if item.code in found_by_code else None

