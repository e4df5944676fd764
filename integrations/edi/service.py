"""EDI partners and the interchange log: set up partners, record what came in and what goes out, hand it over.

Outbound interchanges are numbered per partner by one conditional ``UPDATE … RETURNING`` on the partner row,
so two transactions never take the same control reference and a rolled-back one leaves no gap.
"""

import uuid
from dataclasses import dataclass

from pydifact.segments import Segment
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.edi.models import EdiInterchange, EdiPartner
from integrations.edi.syntax import Party, write_interchange
from tradeloom.audit import Actor, record_audit
from tradeloom.concurrency import check_version
from tradeloom.db import flush_or_conflict, utcnow
from tradeloom.errors import Invalid, NotFound

DIRECTORIES = ("D96A", "D01B")
MESSAGE_TYPES = ("ORDERS", "ORDRSP", "DESADV", "INVOIC")


@dataclass(frozen=True)
class PartnerFields:
    name: str
    partner_id: str
    partner_qualifier: str
    our_id: str
    our_qualifier: str
    syntax_version: str
    messages: tuple[str, ...]
    delivery_site_id: uuid.UUID | None = None
    is_active: bool = True


def _checked(fields: PartnerFields) -> PartnerFields:
    if fields.syntax_version not in DIRECTORIES:
        raise Invalid(f"Directory {fields.syntax_version!r} is not supported; use D96A or D01B.",
                      code="edi_directory_unsupported")
    unknown = sorted(set(fields.messages) - set(MESSAGE_TYPES))
    if unknown:
        raise Invalid(f"Message types {', '.join(unknown)} are not supported; choose from "
                      f"{', '.join(MESSAGE_TYPES)}.", code="edi_message_type_unsupported")
    return fields


async def create_partner(session: AsyncSession, *, actor: Actor, fields: PartnerFields) -> EdiPartner:
    """Set up a partner; its UNB identity (id + qualifier) is unique within the organization."""
    fields = _checked(fields)
    partner = EdiPartner(id=uuid.uuid4(), org_id=actor.org_id, name=fields.name, partner_id=fields.partner_id,
                         partner_qualifier=fields.partner_qualifier, our_id=fields.our_id,
                         our_qualifier=fields.our_qualifier, syntax_version=fields.syntax_version,
                         messages=list(fields.messages), delivery_site_id=fields.delivery_site_id,
                         is_active=fields.is_active)
    session.add(partner)
    await flush_or_conflict(session, f"A partner with UNB identity {fields.partner_id}:{fields.partner_qualifier} "
                                     "already exists.", "edi_partner_exists")
    await record_audit(session, actor=actor, action="edi_partner.created", object_type="edi_partner",
                       object_id=str(partner.id), details={"partner_id": fields.partner_id})
    return partner


async def update_partner(session: AsyncSession, *, actor: Actor, partner_id: uuid.UUID, expected_version: int,
                         fields: PartnerFields) -> EdiPartner:
    """Change a partner's settings (If-Match)."""
    partner = await get_partner(session, partner_id=partner_id)
    check_version(partner.version, expected_version)
    fields = _checked(fields)
    for name in ("name", "partner_id", "partner_qualifier", "our_id", "our_qualifier", "syntax_version",
                 "delivery_site_id", "is_active"):
        setattr(partner, name, getattr(fields, name))
    partner.messages = list(fields.messages)
    await flush_or_conflict(session, f"A partner with UNB identity {fields.partner_id}:{fields.partner_qualifier} "
                                     "already exists.", "edi_partner_exists")
    await record_audit(session, actor=actor, action="edi_partner.updated", object_type="edi_partner",
                       object_id=str(partner.id), details={"version": partner.version})
    return partner


async def list_partners(session: AsyncSession) -> list[EdiPartner]:
    """The organization's partners by name."""
    return list((await session.scalars(select(EdiPartner).order_by(EdiPartner.name))).all())


async def get_partner(session: AsyncSession, *, partner_id: uuid.UUID) -> EdiPartner:
    partner = await session.get(EdiPartner, partner_id)
    if partner is None:
        raise NotFound("No such EDI partner.", code="edi_partner_not_found")
    return partner


async def partner_by_identity(session: AsyncSession, sender: Party) -> EdiPartner | None:
    """The active partner whose interchanges come from this UNB sender."""
    return await session.scalar(select(EdiPartner).where(
        EdiPartner.partner_id == sender.id, EdiPartner.partner_qualifier == sender.qualifier, EdiPartner.is_active))


async def _next_reference(session: AsyncSession, partner_id: uuid.UUID) -> str:
    statement = (update(EdiPartner).where(EdiPartner.id == partner_id)
                 .values(last_outbound_reference=EdiPartner.last_outbound_reference + 1)
                 .returning(EdiPartner.last_outbound_reference)
                 .execution_options(synchronize_session=False))
    return str(await session.scalar(statement))


async def send_interchange(session: AsyncSession, *, partner: EdiPartner, messages: list[tuple[str, list[Segment]]],
                           source_order_id: uuid.UUID | None = None, source_document_id: uuid.UUID | None = None,
                           detail: str | None = None, directory: str | None = None) -> EdiInterchange:
    """Queue an interchange of ``(type, body)`` messages for the partner, under the next control reference."""
    reference = await _next_reference(session, partner.id)
    now = utcnow()
    content = write_interchange(
        sender=Party(partner.our_id, partner.our_qualifier), recipient=Party(partner.partner_id,
                                                                              partner.partner_qualifier),
        control_reference=reference, at=now,
        messages=[(kind, directory or partner.syntax_version, body) for kind, body in messages],
    )
    interchange = EdiInterchange(
        id=uuid.uuid4(), org_id=partner.org_id, partner_id=partner.id, direction="out", control_reference=reference,
        message_types=[kind for kind, _ in messages], status="ready", detail=detail,
        source_order_id=source_order_id, source_document_id=source_document_id,
        filename=f"{partner.partner_id}_{reference}_{messages[0][0]}.edi",
        content=content, created_at=now,
    )
    session.add(interchange)
    await session.flush()
    return interchange


async def list_interchanges(session: AsyncSession, *, partner_id: uuid.UUID | None = None,
                            direction: str | None = None, limit: int = 100) -> list[EdiInterchange]:
    """The message log, newest first."""
    query = select(EdiInterchange).order_by(EdiInterchange.created_at.desc(), EdiInterchange.id).limit(limit)
    if partner_id:
        query = query.where(EdiInterchange.partner_id == partner_id)
    if direction:
        query = query.where(EdiInterchange.direction == direction)
    return list((await session.scalars(query)).all())


async def get_interchange(session: AsyncSession, *, interchange_id: uuid.UUID) -> EdiInterchange:
    interchange = await session.get(EdiInterchange, interchange_id)
    if interchange is None:
        raise NotFound("No such interchange.", code="edi_interchange_not_found")
    return interchange


async def take_outbound(session: AsyncSession, *, interchange_id: uuid.UUID) -> EdiInterchange:
    """An outbound interchange for download; the first download is recorded (downloading again is allowed)."""
    interchange = await get_interchange(session, interchange_id=interchange_id)
    if interchange.direction != "out":
        raise NotFound("No such outbound interchange.", code="edi_interchange_not_found")
    if interchange.downloaded_at is None:
        interchange.downloaded_at = utcnow()
        interchange.status = "downloaded"
        await session.flush()
    return interchange


async def pending_outbound(session: AsyncSession) -> list[EdiInterchange]:
    """Outbound interchanges not yet handed over, oldest first (what the watched folder writes out)."""
    query = select(EdiInterchange).where(EdiInterchange.direction == "out", EdiInterchange.status == "ready")
    return list((await session.scalars(query.order_by(EdiInterchange.created_at))).all())
