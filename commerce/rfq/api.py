"""RFQ API: the buyer issues, matches, invites, answers, compares and awards; suppliers read their inbox,
ask, and quote (sealed until the deadline)."""

import uuid
from typing import Annotated

from fastapi import Depends, Response

from commerce.order_port import Placer
from commerce.rfq import schemas
from commerce.rfq.models import RfqQuestion
from commerce.rfq.service import award, comparison, invitations, matching, questions, quotations, requests
from commerce.rfq.service.quotations import QuotationView
from commerce.rfq.service.requests import RfqView
from tradeloom.auth import CurrentPrincipal, Principal, requires
from tradeloom.concurrency import ExpectedVersion, set_etag
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix="/api/v1/rfqs", tags=["rfq"], route_class=TransactionalRoute)
quotation_router = PrefixedRouter(prefix="/api/v1/quotations", tags=["rfq"], route_class=TransactionalRoute)
Buyer = Annotated[Principal, Depends(requires(Permission.RFQ_MANAGE))]
Supplier = Annotated[Principal, Depends(requires(Permission.QUOTATION_SUBMIT))]


def rfq_out(view: RfqView, response: Response | None = None) -> schemas.RfqOut:
    if response is not None:
        set_etag(response, view.rfq.version)
    return schemas.RfqOut.model_validate({
        **{name: getattr(view.rfq, name) for name in schemas.RfqOut.model_fields if name != "lines"},
        "lines": [schemas.RfqLineOut.model_validate(line) for line in view.lines]})


def quotation_out(view: QuotationView) -> schemas.QuotationOut:
    return schemas.QuotationOut.model_validate({
        **{name: getattr(view.quotation, name) for name in schemas.QuotationOut.model_fields if name != "lines"},
        "lines": [schemas.QuotationLineOut.model_validate(line) for line in view.lines]})


@router.post("", status_code=201)
async def create_rfq(body: schemas.RfqCreate, principal: Buyer, session: DbSession, response: Response,
                     _key: Idempotent) -> schemas.RfqOut:
    """Issue an RFQ to invited suppliers, or open to every supplier with offers in its lines' classes."""
    view = await requests.create_rfq(session, actor=principal.actor, fields=body)
    response.headers["Location"] = f"{router.prefix}/{view.rfq.id}"
    return rfq_out(view, response)


@router.get("")
async def list_rfqs(principal: Buyer, session: DbSession) -> list[schemas.RfqSummary]:
    """Your organization's RFQs, newest first."""
    return [schemas.RfqSummary.model_validate(r) for r in await requests.list_rfqs(session, actor=principal.actor)]


@router.get("/inbox")
async def inbox(principal: Supplier, session: DbSession) -> list[schemas.RfqSummary]:
    """The RFQs your organization is invited to or matched for, nearest deadline first."""
    return [schemas.RfqSummary.model_validate(r) for r in await requests.inbox(session, actor=principal.actor)]


@router.get("/{rfq_id}")
async def get_rfq(rfq_id: uuid.UUID, principal: CurrentPrincipal, session: DbSession,
                  response: Response) -> schemas.RfqOut:
    """One RFQ you issued or are invited to, with its lines; its version as ETag."""
    return rfq_out(await requests.rfq_view(session, rfq_id=rfq_id), response)


@router.get("/{rfq_id}/matches")
async def matches(rfq_id: uuid.UUID, principal: Buyer, session: DbSession) -> list[schemas.LineMatchesOut]:
    """Suppliers per line, best first by match score: catalogue fit, price, rating and lead time (weighted)."""
    found = await matching.match_suppliers(session, actor=principal.actor, rfq_id=rfq_id)
    return [schemas.LineMatchesOut(rfq_line_id=m.line.id, line_no=m.line.line_no,
                                   suppliers=[schemas.SupplierMatchOut.model_validate(s) for s in m.suppliers])
            for m in found]


async def _invitations(session: DbSession, rfq_id: uuid.UUID) -> list[schemas.InvitationOut]:
    return [schemas.InvitationOut.model_validate(i) for i in await invitations.invitations(session, rfq_id=rfq_id)]


@router.post("/{rfq_id}/invitations")
async def invite(rfq_id: uuid.UUID, body: schemas.InvitationsIn, principal: Buyer, session: DbSession,
                 _key: Idempotent) -> list[schemas.InvitationOut]:
    """Invite named suppliers while the RFQ is open; answers every invitation."""
    await matching.invite(session, actor=principal.actor, rfq_id=rfq_id, supplier_org_ids=body.supplier_org_ids)
    return await _invitations(session, rfq_id)


@router.post("/{rfq_id}/invitations/top")
async def invite_top(rfq_id: uuid.UUID, body: schemas.InviteTopIn, principal: Buyer, session: DbSession,
                     _key: Idempotent) -> list[schemas.InvitationOut]:
    """Invite the best N matches of every line in one action."""
    await matching.invite_top(session, actor=principal.actor, rfq_id=rfq_id, top=body.top)
    return await _invitations(session, rfq_id)


@router.get("/{rfq_id}/invitations")
async def list_invitations(rfq_id: uuid.UUID, principal: Buyer, session: DbSession) -> list[schemas.InvitationOut]:
    """Who may see and quote the RFQ."""
    await requests.own_rfq(session, actor=principal.actor, rfq_id=rfq_id)
    return await _invitations(session, rfq_id)


def _question_out(principal: Principal, question: RfqQuestion) -> schemas.QuestionOut:
    return schemas.QuestionOut(id=question.id, question=question.question, answer=question.answer,
                               created_at=question.created_at, answered_at=question.answered_at,
                               asked_by_you=question.asked_by_org_id == principal.org_id)


@router.post("/{rfq_id}/questions", status_code=201)
async def ask(rfq_id: uuid.UUID, body: schemas.QuestionIn, principal: Supplier, session: DbSession,
              _key: Idempotent) -> schemas.QuestionOut:
    """Ask the buyer a clarification question (all invitees will see it, not who asked)."""
    asked = await questions.ask(session, actor=principal.actor, rfq_id=rfq_id, question=body.question)
    return _question_out(principal, asked)


@router.get("/{rfq_id}/questions")
async def list_questions(rfq_id: uuid.UUID, principal: CurrentPrincipal,
                         session: DbSession) -> list[schemas.QuestionOut]:
    """Every question and answer on the RFQ; askers are not named."""
    return [_question_out(principal, q) for q in await questions.questions(session, rfq_id=rfq_id)]


@router.post("/{rfq_id}/questions/{question_id}/answer")
async def answer(rfq_id: uuid.UUID, question_id: uuid.UUID, body: schemas.AnswerIn, principal: Buyer,
                 session: DbSession, _key: Idempotent) -> schemas.QuestionOut:
    """Answer a question for every invitee."""
    answered = await questions.answer(session, actor=principal.actor, rfq_id=rfq_id, question_id=question_id,
                                      text=body.answer)
    return _question_out(principal, answered)


@router.post("/{rfq_id}/quotations", status_code=201)
async def submit_quotation(rfq_id: uuid.UUID, body: schemas.QuotationIn, principal: Supplier, session: DbSession,
                           response: Response, _key: Idempotent) -> schemas.QuotationOut:
    """Quote, or revise your quotation, until the deadline (409 ``rfq_closed`` after it)."""
    view = await quotations.submit_quotation(session, actor=principal.actor, rfq_id=rfq_id, fields=body)
    response.headers["Location"] = f"{quotation_router.prefix}/{view.quotation.id}"
    return quotation_out(view)


@router.get("/{rfq_id}/quotations/mine")
async def my_quotations(rfq_id: uuid.UUID, principal: Supplier, session: DbSession) -> list[schemas.QuotationOut]:
    """Your revisions for this RFQ, newest first."""
    return [quotation_out(v) for v in await quotations.own_quotations(session, actor=principal.actor, rfq_id=rfq_id)]


@quotation_router.get("/{quotation_id}")
async def get_quotation(quotation_id: uuid.UUID, principal: CurrentPrincipal,
                        session: DbSession) -> schemas.QuotationOut:
    """A quotation: your own, or (as the buyer) one whose RFQ deadline has passed."""
    return quotation_out(await quotations.get_quotation(session, quotation_id=quotation_id))


@router.get("/{rfq_id}/comparison")
async def compare(rfq_id: uuid.UUID, principal: Buyer, session: DbSession) -> schemas.ComparisonOut:
    """Lines × suppliers in your units, with landed totals; 409 ``rfq_sealed`` before the deadline."""
    matrix = await comparison.compare(session, actor=principal.actor, rfq_id=rfq_id)
    return schemas.ComparisonOut(
        rfq_id=matrix.rfq.id, currency=matrix.rfq.currency,
        lines=[schemas.ComparisonLineOut(
            rfq_line_id=row.line.id, line_no=row.line.line_no, description=row.line.description,
            quantity=row.line.quantity, unit=row.line.unit,
            cells=[schemas.ComparisonCellOut.model_validate(cell) for cell in row.cells]) for row in matrix.lines],
        suppliers=[schemas.SupplierTotalOut.model_validate(total) for total in matrix.suppliers])


@router.post("/{rfq_id}/awards", status_code=201)
async def award_rfq(rfq_id: uuid.UUID, body: schemas.AwardIn, principal: Buyer, session: DbSession,
                    expected_version: ExpectedVersion, placer: Placer, response: Response,
                    _key: Idempotent) -> list[schemas.AwardOut]:
    """Award lines (whole or split) to purchase orders or spot contracts; suppliers are told who won."""
    awards = await award.award_rfq(session, actor=principal.actor, rfq_id=rfq_id, expected_version=expected_version,
                                   fields=body, placer=placer)
    set_etag(response, (await requests.get_rfq(session, rfq_id=rfq_id)).version)
    return [schemas.AwardOut.model_validate(a) for a in awards]


@router.get("/{rfq_id}/awards")
async def list_awards(rfq_id: uuid.UUID, principal: CurrentPrincipal, session: DbSession) -> list[schemas.AwardOut]:
    """The awards you may see: all of them as the buyer, your own as a supplier."""
    await requests.get_rfq(session, rfq_id=rfq_id)
    return [schemas.AwardOut.model_validate(a) for a in await award.awards_of(session, rfq_id=rfq_id)]


routers = (router, quotation_router)
