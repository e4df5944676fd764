"""Who may see and quote an RFQ: the suppliers the buyer invites, or those matched for an open RFQ."""

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.service.offers import SELLING_KINDS, offers_in_classes
from commerce.rfq.models import Rfq, RfqInvitation, RfqLine
from tradeloom.audit import Actor, record_audit
from tradeloom.db import utcnow
from tradeloom.errors import Invalid
from tradeloom.identity.service import get_organization
from tradeloom.outbox.service import emit


async def matching_supplier_ids(
    session: AsyncSession, *, lines: Sequence[RfqLine], on_date: dt.date
) -> list[uuid.UUID]:
    """Suppliers with valid offers in the classes of the lines (an open RFQ reaches all of them)."""
    offers = await offers_in_classes(session, class_codes=sorted({line.class_code for line in lines}),
                                     on_date=on_date)
    return sorted({offer.org_id for offer, _ in offers}, key=str)


async def _check_suppliers(session: AsyncSession, actor: Actor, supplier_org_ids: Sequence[uuid.UUID]) -> None:
    for supplier_org_id in supplier_org_ids:
        organization = await get_organization(session, supplier_org_id)
        if supplier_org_id == actor.org_id or organization.kind not in SELLING_KINDS or not organization.is_active:
            raise Invalid(f"{organization.name_en} is not a supplier that can be invited.",
                          code="rfq.not_a_supplier", errors=[{"supplier_org_id": str(supplier_org_id)}])


async def add_invitations(
    session: AsyncSession, *, actor: Actor, rfq: Rfq, supplier_org_ids: Sequence[uuid.UUID], source: str
) -> list[uuid.UUID]:
    """Invite suppliers not invited yet; each new invitee gets an ``rfq.invited`` event. Returns the new ones."""
    wanted = sorted(set(supplier_org_ids), key=str)
    await _check_suppliers(session, actor, wanted)
    added: list[uuid.UUID] = []
    for supplier_org_id in wanted:
        inserted = await session.scalar(
            pg_insert(RfqInvitation).values(org_id=rfq.org_id, rfq_id=rfq.id, supplier_org_id=supplier_org_id,
                                            source=source, invited_at=utcnow())
            .on_conflict_do_nothing().returning(RfqInvitation.supplier_org_id))
        if inserted is not None:
            added.append(supplier_org_id)
            await emit(session, org_id=rfq.org_id, topic="rfq.invited",
                       payload={"rfq_id": str(rfq.id), "supplier_org_id": str(supplier_org_id)})
    if added:
        await record_audit(session, actor=actor, action="rfq.invited", object_type="rfq", object_id=rfq.id,
                           details={"suppliers": [str(s) for s in added], "source": source})
    return added


async def invitations(session: AsyncSession, *, rfq_id: uuid.UUID) -> list[RfqInvitation]:
    query = select(RfqInvitation).where(RfqInvitation.rfq_id == rfq_id).order_by(RfqInvitation.invited_at)
    return list((await session.scalars(query)).all())
