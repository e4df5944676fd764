"""Who is paid when an invoice is paid: the one place that decides it, for every way money arrives (bank
transfer matched from a statement, card, escrow release).

The supplier, unless its receivable on the invoice was assigned to a financier (factoring): then the buyer's
payment settles the financier's receivable instead. This module sits below both the invoice postings and the
finance service (it reads only the assignment table), so neither has to import the other to ask.
"""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement.finance.models import ReceivableAssignment


async def assignee_of(session: AsyncSession, invoice_id: uuid.UUID) -> uuid.UUID | None:
    """The financier an invoice's receivable was assigned to, if any."""
    return await session.scalar(select(ReceivableAssignment.financier_org_id).where(
        ReceivableAssignment.invoice_id == invoice_id))


async def payee_of(session: AsyncSession, *, invoice_id: uuid.UUID, supplier_org_id: uuid.UUID) -> uuid.UUID:
    """The organization whose receivable a payment of the invoice settles and whose bank receives the money."""
    return await assignee_of(session, invoice_id) or supplier_org_id
