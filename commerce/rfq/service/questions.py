"""Clarification Q&A: an invitee asks, the buyer answers, every invitee reads all, nobody learns who asked."""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.rfq.models import RfqQuestion
from commerce.rfq.service.requests import ensure_invited, ensure_open, get_rfq, own_rfq
from tradeloom.audit import Actor, record_audit
from tradeloom.db import utcnow
from tradeloom.errors import Conflict, NotFound
from tradeloom.outbox.service import emit


async def ask(session: AsyncSession, *, actor: Actor, rfq_id: uuid.UUID, question: str) -> RfqQuestion:
    """An invited supplier asks before the deadline; the buyer is told, without the asker's name in the event."""
    rfq = await get_rfq(session, rfq_id=rfq_id)
    await ensure_invited(session, actor=actor, rfq=rfq)
    await ensure_open(session, rfq)
    asked = RfqQuestion(org_id=rfq.org_id, rfq_id=rfq.id, asked_by_org_id=actor.org_id, question=question)
    session.add(asked)
    await session.flush()
    await record_audit(session, actor=actor, action="rfq.question_asked", object_type="rfq", object_id=rfq.id,
                       details={"question_id": str(asked.id)})
    return asked


async def answer(
    session: AsyncSession, *, actor: Actor, rfq_id: uuid.UUID, question_id: uuid.UUID, text: str
) -> RfqQuestion:
    """The buyer answers once; every invitee is notified (``rfq.question_answered``)."""
    rfq = await own_rfq(session, actor=actor, rfq_id=rfq_id)
    question = await session.get(RfqQuestion, question_id)
    if question is None or question.rfq_id != rfq.id:
        raise NotFound("No such question on this RFQ.", code="rfq.question_not_found")
    if question.answer is not None:
        raise Conflict("This question was already answered.", code="rfq.question_answered")
    question.answer, question.answered_at = text, utcnow()
    await session.flush()
    await emit(session, org_id=actor.org_id, topic="rfq.question_answered",
               payload={"rfq_id": str(rfq.id), "question_id": str(question.id)})
    await record_audit(session, actor=actor, action="rfq.question_answered", object_type="rfq", object_id=rfq.id,
                       details={"question_id": str(question.id)})
    return question


async def questions(session: AsyncSession, *, rfq_id: uuid.UUID) -> list[RfqQuestion]:
    """Every question on an RFQ the caller can see, oldest first."""
    await get_rfq(session, rfq_id=rfq_id)
    query = select(RfqQuestion).where(RfqQuestion.rfq_id == rfq_id).order_by(RfqQuestion.created_at, RfqQuestion.id)
    return list((await session.scalars(query)).all())
