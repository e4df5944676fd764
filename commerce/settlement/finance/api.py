"""Supply-chain finance API: early-payment requests, offers, acceptance, settlement, credit inputs."""

import datetime as dt
import uuid
from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import Depends

from commerce.settlement.finance import schemas, service
from tradeloom.auth import Principal, requires
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix="/api/v1/finance", tags=["finance"], route_class=TransactionalRoute)
Financing = Annotated[Principal, Depends(requires(Permission.FINANCE_OFFER))]


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@router.post("/requests", status_code=201)
async def request_early_payment(body: schemas.RequestCreate, principal: Financing, session: DbSession,
                                _key: Idempotent) -> schemas.RequestOut:
    """Offer an approved, not yet due invoice for early payment (financiers and the buyer may then bid)."""
    request = await service.request_early_payment(session, actor=principal.actor, invoice_id=body.invoice_id,
                                                  today=today())
    return schemas.RequestOut.model_validate(request)


@router.get("/requests")
async def list_requests(principal: Financing, session: DbSession,
                        status: Literal["open", "accepted", "withdrawn"] | None = None) -> list[schemas.RequestOut]:
    """Your requests, your invoices' requests, and (for a financier) every open one: the receivables marketplace."""
    return [schemas.RequestOut.model_validate(r) for r in await service.list_requests(session, status=status)]


@router.post("/requests/{request_id}/offers", status_code=201)
async def make_offer(request_id: uuid.UUID, body: schemas.OfferCreate, principal: Financing, session: DbSession,
                     _key: Idempotent) -> schemas.OfferOut:
    """Offer an annual discount rate: as a financier (factoring) or as the invoice's buyer (dynamic discounting)."""
    offer = await service.make_offer(session, actor=principal.actor, org_kind=principal.org_kind,
                                     request_id=request_id, annual_rate_pct=body.annual_rate_pct, today=today(),
                                     expires_on=body.expires_on)
    return schemas.OfferOut.model_validate(offer)


@router.get("/requests/{request_id}/offers")
async def list_offers(request_id: uuid.UUID, principal: Financing, session: DbSession) -> list[schemas.OfferOut]:
    """The offers on a request you can see (the supplier sees all; an offeror its own), best first."""
    return [schemas.OfferOut.model_validate(o) for o in await service.offers_for(session, request_id)]


@router.post("/offers/{offer_id}/accept")
async def accept_offer(offer_id: uuid.UUID, principal: Financing, session: DbSession,
                       _key: Idempotent) -> schemas.OfferOut:
    """Accept an offer: the receivable is assigned to the financier, or the buyer pays early, at once."""
    return schemas.OfferOut.model_validate(await service.accept_offer(session, actor=principal.actor,
                                                                      offer_id=offer_id, today=today()))


@router.post("/offers/{offer_id}/withdraw")
async def withdraw_offer(offer_id: uuid.UUID, principal: Financing, session: DbSession,
                         _key: Idempotent) -> schemas.OfferOut:
    """Withdraw your offer while the supplier has not accepted it."""
    return schemas.OfferOut.model_validate(await service.withdraw_offer(session, actor=principal.actor,
                                                                        offer_id=offer_id))


@router.get("/assignments")
async def list_assignments(principal: Financing, session: DbSession) -> list[schemas.AssignmentOut]:
    """Receivables assigned by, owed by, or held by your organization."""
    return [schemas.AssignmentOut.model_validate(a) for a in await service.list_assignments(session)]


@router.post("/assignments/{assignment_id}/settle")
async def settle_assignment(assignment_id: uuid.UUID, principal: Financing, session: DbSession,
                            _key: Idempotent) -> schemas.AssignmentOut:
    """The buyer pays an assigned invoice at maturity: to the financier."""
    assignment = await service.settle_assignment(session, actor=principal.actor, assignment_id=assignment_id)
    return schemas.AssignmentOut.model_validate(assignment)


@router.get("/credit-inputs")
async def credit_inputs(principal: Financing, session: DbSession) -> schemas.CreditInputsOut:
    """Your organization's trade record as a supplier (volumes, disputes, days late) for credit evaluation."""
    inputs = await service.credit_inputs(session, actor=principal.actor, today=today())
    return schemas.CreditInputsOut(**asdict(inputs))
