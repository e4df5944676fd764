"""Returns (RMA) and freight quotes: the after-delivery and the before-dispatch conversations."""

import uuid
from typing import Annotated

from fastapi import Depends, Response

from commerce.logistics.models import FreightQuote, ReturnRequest
from commerce.logistics.schemas import (
    FreightQuoteIn,
    FreightQuoteOut,
    FreightRequestIn,
    ReturnCreate,
    ReturnOut,
    ReturnStepIn,
)
from commerce.logistics.service import freight, returns
from commerce.logistics.service.returns import ReturnLineDraft
from tradeloom.auth import CurrentPrincipal, Principal, requires
from tradeloom.concurrency import ExpectedVersion, set_etag
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix="/api/v1/logistics", tags=["logistics: returns and freight"],
                   route_class=TransactionalRoute)
Receiver = Annotated[Principal, Depends(requires(Permission.GOODS_RECEIPT))]
Shipper = Annotated[Principal, Depends(requires(Permission.SHIPMENT_MANAGE))]


def return_out(response: Response, request: ReturnRequest) -> ReturnOut:
    set_etag(response, request.version)
    return ReturnOut.model_validate(request)


def quote_out(response: Response, quote: FreightQuote) -> FreightQuoteOut:
    set_etag(response, quote.version)
    return FreightQuoteOut.model_validate(quote)


@router.post("/returns", status_code=201)
async def request_return(body: ReturnCreate, principal: Receiver, session: DbSession, response: Response,
                         _key: Idempotent) -> ReturnOut:
    """Ask the supplier to take back accepted goods of one of your receipts, with the reason."""
    request = await returns.request_return(
        session, actor=principal.actor, receipt_id=body.receipt_id, reason=body.reason,
        lines=[ReturnLineDraft(line.receipt_line_id, line.quantity, line.serials) for line in body.lines])
    return return_out(response, request)


@router.get("/returns")
async def list_returns(principal: CurrentPrincipal, session: DbSession) -> list[ReturnOut]:
    """Returns you asked for or were asked to take back, newest first."""
    return [ReturnOut.model_validate(request) for request in await returns.list_returns(session)]


@router.post("/returns/{return_id}/{action}")
async def return_step(return_id: uuid.UUID, action: str, body: ReturnStepIn, principal: CurrentPrincipal,
                      session: DbSession, response: Response, expected_version: ExpectedVersion,
                      _key: Idempotent) -> ReturnOut:
    """approve / refuse (supplier), ship (buyer, with carrier and tracking), receive (supplier: credit-note
    trigger ``return.received``)."""
    principal.require(Permission.GOODS_RECEIPT if action == "ship" else Permission.SHIPMENT_MANAGE)
    request = await returns.advance_return(
        session, actor=principal.actor, return_id=return_id, action=action, expected_version=expected_version,
        note=body.note, carrier_name=body.carrier_name, tracking_number=body.tracking_number,
        location_id=body.location_id)
    return return_out(response, request)


@router.post("/shipments/{shipment_id}/freight-quotes", status_code=201)
async def request_quotes(shipment_id: uuid.UUID, body: FreightRequestIn, principal: Shipper, session: DbSession,
                         _key: Idempotent) -> list[FreightQuoteOut]:
    """Ask logistics providers to quote for carrying your shipment."""
    quotes = await freight.request_quotes(session, actor=principal.actor, shipment_id=shipment_id,
                                          provider_org_ids=body.provider_org_ids, deliver_to=body.deliver_to)
    return [FreightQuoteOut.model_validate(quote) for quote in quotes]


@router.get("/freight-quotes")
async def list_quotes(principal: CurrentPrincipal, session: DbSession) -> list[FreightQuoteOut]:
    """Quote requests you sent, or (logistics providers) received."""
    return [FreightQuoteOut.model_validate(quote) for quote in await freight.list_quotes(session)]


@router.post("/freight-quotes/{quote_id}/quote")
async def submit_quote(quote_id: uuid.UUID, body: FreightQuoteIn, principal: CurrentPrincipal, session: DbSession,
                       response: Response, expected_version: ExpectedVersion, _key: Idempotent) -> FreightQuoteOut:
    """A logistics provider prices a request addressed to it."""
    quote = await freight.submit_quote(session, actor=principal.actor, quote_id=quote_id,
                                       expected_version=expected_version, price=body.price, currency=body.currency,
                                       transit_days=body.transit_days, note=body.note)
    return quote_out(response, quote)


@router.post("/freight-quotes/{quote_id}/award")
async def award_quote(quote_id: uuid.UUID, principal: Shipper, session: DbSession, response: Response,
                      expected_version: ExpectedVersion, _key: Idempotent) -> FreightQuoteOut:
    """Award a priced quote: its provider becomes the shipment's carrier."""
    quote = await freight.award_quote(session, actor=principal.actor, quote_id=quote_id,
                                      expected_version=expected_version)
    return quote_out(response, quote)
