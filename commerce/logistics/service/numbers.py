"""Gapless document numbers per organization, kind and year: SH-2026-000001 (shipments), GR-… (goods
receipts), RMA-… (returns). The counter row is advanced inside the document's own transaction, like orders."""

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.models import DocumentSequence
from tradeloom.audit import Actor
from tradeloom.db import utcnow


async def next_number(session: AsyncSession, *, actor: Actor, kind: str) -> str:
    year = utcnow().year
    statement = (
        pg_insert(DocumentSequence).values(org_id=actor.org_id, kind=kind, year=year, last_number=1)
        .on_conflict_do_update(index_elements=[DocumentSequence.org_id, DocumentSequence.kind, DocumentSequence.year],
                               set_={"last_number": DocumentSequence.last_number + 1})
        .returning(DocumentSequence.last_number)
    )
    number = await session.scalar(statement)
    return f"{kind}-{year}-{number:06d}"
