"""Creating and reading RFQs. The buyer owns them; invited suppliers see them through their invitations."""

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.service.classes import leaf_class
from catalog.service.materials import get_material, pack_sizes_of
from catalog.service.price_lists import BUYING_KINDS
from catalog.units import convert, get_unit
from commerce.rfq.models import Rfq, RfqInvitation, RfqLine
from commerce.rfq.schemas import RfqCreate, RfqLineIn, RfqStatus, Visibility
from commerce.rfq.service.invitations import add_invitations, matching_supplier_ids
from tradeloom.audit import Actor, record_audit
from tradeloom.db import utcnow
from tradeloom.errors import Conflict, Invalid, NotFound
from tradeloom.identity.service import get_organization
from tradeloom.outbox.service import emit
from tradeloom.sites.service import get_site


@dataclass(frozen=True)
class RfqView:
    rfq: Rfq
    lines: list[RfqLine]


async def database_now(session: AsyncSession) -> dt.datetime:
    """The transaction's clock: the same ``now()`` the sealing policies compare with."""
    now = await session.scalar(select(func.now()))
    assert now is not None
    return now


async def _line_row(session: AsyncSession, rfq: Rfq, line_no: int, line: RfqLineIn) -> dict[str, object]:
    if line.material_id is not None:
        material = await get_material(session, material_id=line.material_id)
        convert(Decimal(1), line.unit, material.base_unit, pack_sizes=pack_sizes_of(material), places=6)
        description, class_code = line.description or material.name_en, material.class_code
    else:
        get_unit(line.unit)
        class_code = (await leaf_class(session, str(line.class_code))).code
        description = str(line.description)
    return {"org_id": rfq.org_id, "rfq_id": rfq.id, "line_no": line_no, "material_id": line.material_id,
            "description": description, "class_code": class_code, "attributes": line.attributes,
            "quantity": line.quantity, "unit": line.unit, "required_date": line.required_date}


async def create_rfq(session: AsyncSession, *, actor: Actor, fields: RfqCreate) -> RfqView:
    """Publish an RFQ; invited suppliers (or, for an open one, every matching supplier) see it at once."""
    if (await get_organization(session, actor.org_id)).kind not in BUYING_KINDS:
        raise Invalid("Only buying organizations issue RFQs.", code="rfq.not_a_buyer")
    if fields.deadline <= await database_now(session):
        raise Invalid("The deadline must be in the future.", code="rfq.deadline_past",
                      errors=[{"pointer": "/deadline"}])
    await get_site(session, site_id=fields.delivery_site_id)
    rfq = Rfq(org_id=actor.org_id, status=RfqStatus.OPEN.value,
              **fields.model_dump(exclude={"lines", "supplier_org_ids"}))
    session.add(rfq)
    await session.flush()
    rows = [await _line_row(session, rfq, number, line) for number, line in enumerate(fields.lines, start=1)]
    await session.execute(insert(RfqLine), rows)
    lines = await rfq_lines(session, rfq_id=rfq.id)
    suppliers = list(fields.supplier_org_ids)
    if fields.visibility == Visibility.OPEN:
        suppliers += await matching_supplier_ids(session, lines=lines, on_date=utcnow().date())
    source = "matched" if fields.visibility == Visibility.OPEN else "invited"
    await add_invitations(session, actor=actor, rfq=rfq, supplier_org_ids=suppliers, source=source)
    await emit(session, org_id=actor.org_id, topic="rfq.published",
               payload={"rfq_id": str(rfq.id), "visibility": rfq.visibility})
    await record_audit(session, actor=actor, action="rfq.published", object_type="rfq", object_id=rfq.id,
                       details={"lines": len(lines), "visibility": rfq.visibility})
    return RfqView(rfq, lines)


async def get_rfq(session: AsyncSession, *, rfq_id: uuid.UUID) -> Rfq:
    """An RFQ the caller issued or was invited to; any other is not found."""
    rfq = await session.get(Rfq, rfq_id)
    if rfq is None:
        raise NotFound("No such RFQ.", code="rfq.not_found")
    return rfq


async def own_rfq(session: AsyncSession, *, actor: Actor, rfq_id: uuid.UUID) -> Rfq:
    """One of the actor's own RFQs (as buyer)."""
    rfq = await get_rfq(session, rfq_id=rfq_id)
    if rfq.org_id != actor.org_id:
        raise NotFound("No such RFQ of yours.", code="rfq.not_found")
    return rfq


async def rfq_lines(session: AsyncSession, *, rfq_id: uuid.UUID) -> list[RfqLine]:
    query = select(RfqLine).where(RfqLine.rfq_id == rfq_id).order_by(RfqLine.line_no)
    return list((await session.scalars(query)).all())


async def rfq_view(session: AsyncSession, *, rfq_id: uuid.UUID) -> RfqView:
    rfq = await get_rfq(session, rfq_id=rfq_id)
    return RfqView(rfq, await rfq_lines(session, rfq_id=rfq.id))


async def list_rfqs(session: AsyncSession, *, actor: Actor, limit: int = 100) -> list[Rfq]:
    """The buyer's RFQs, newest first."""
    query = select(Rfq).where(Rfq.org_id == actor.org_id).order_by(Rfq.created_at.desc(), Rfq.id).limit(limit)
    return list((await session.scalars(query)).all())


async def inbox(session: AsyncSession, *, actor: Actor, limit: int = 100) -> list[Rfq]:
    """The RFQs a supplier is invited to (or matched for), the nearest deadline first."""
    query = (select(Rfq).join(RfqInvitation, RfqInvitation.rfq_id == Rfq.id)
             .where(RfqInvitation.supplier_org_id == actor.org_id).order_by(Rfq.deadline, Rfq.id).limit(limit))
    return list((await session.scalars(query)).all())


async def ensure_open(session: AsyncSession, rfq: Rfq) -> None:
    """409 ``rfq_closed`` once the deadline has passed (or the RFQ was awarded)."""
    if rfq.status != RfqStatus.OPEN or await database_now(session) >= rfq.deadline:
        raise Conflict("The RFQ's deadline has passed: quotations and questions are closed.", code="rfq_closed")


async def ensure_invited(session: AsyncSession, *, actor: Actor, rfq: Rfq) -> None:
    invited = await session.scalar(select(RfqInvitation.rfq_id).where(
        RfqInvitation.rfq_id == rfq.id, RfqInvitation.supplier_org_id == actor.org_id))
    if invited is None:
        raise NotFound("No such RFQ.", code="rfq.not_found")
