"""Who is paid when an invoice is paid: the one place that decides it, for every way money arrives (bank
transfer matched from a statement, card, escrow release), and that counts what reached a financier.

The supplier, unless its receivable on the invoice was assigned to a financier (factoring): then the buyer's
payment settles the financier's receivable instead, and once the payments redirected to the financier cover the
assigned amount the assignment is ``settled``. This module sits below both the invoice postings and the finance
service (it reads only the assignment table), so neither has to import the other to ask.
"""

import uuid
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement.finance.models import ReceivableAssignment
from ledger.service import record_evidence
from tradeloom.db import utcnow
from tradeloom.outbox.service import emit

SETTLED_TOPIC = "finance.settled"


async def assignee_of(session: AsyncSession, invoice_id: uuid.UUID) -> uuid.UUID | None:
    """The financier an invoice's receivable was assigned to, if any."""
    return await session.scalar(select(ReceivableAssignment.financier_org_id).where(
        ReceivableAssignment.invoice_id == invoice_id))


async def payee_of(session: AsyncSession, *, invoice_id: uuid.UUID, supplier_org_id: uuid.UUID) -> uuid.UUID:
    """The organization whose receivable a payment of the invoice settles and whose bank receives the money."""
    return await assignee_of(session, invoice_id) or supplier_org_id


async def count_payment(session: AsyncSession, *, by_org_id: uuid.UUID, invoice_id: uuid.UUID, amount: Decimal,
                        via: str) -> ReceivableAssignment | None:
    """A payment of the invoice was booked: if its receivable is assigned, the payment went to the financier and
    counts towards the assigned amount; when that is covered the assignment is settled (event + evidence).
    Returns the assignment it counted for (None: not assigned, so the supplier was paid)."""
    assignment = await session.scalar(select(ReceivableAssignment).where(
        ReceivableAssignment.invoice_id == invoice_id).with_for_update())
    if assignment is None:
        return None
    assignment.paid_amount += amount
    if assignment.status == "assigned" and assignment.paid_amount >= assignment.amount:
        assignment.status, assignment.settled_at = "settled", utcnow()
        facts = {"assignment_id": str(assignment.id), "invoice_id": str(invoice_id),
                 "financier_org_id": str(assignment.financier_org_id), "buyer_org_id": str(assignment.buyer_org_id),
                 "supplier_org_id": str(assignment.org_id), "amount": f"{assignment.amount:f}",
                 "paid": f"{assignment.paid_amount:f}", "via": via}
        await emit(session, org_id=by_org_id, topic=SETTLED_TOPIC, payload=facts)
        await record_evidence(session, org_id=by_org_id, kind=SETTLED_TOPIC, subject=f"invoice:{invoice_id}",
                              payload=facts)
    await session.flush()
    return assignment
