"""Card payments API (PaymentIntents) and the inbound Stripe webhook endpoint."""

import uuid
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Request, Response

from commerce.settlement.providers import register_provider
from commerce.settlement.stripe import schemas, service, webhooks
from commerce.settlement.stripe.gateway import StripeGateway
from commerce.settlement.stripe.models import StripePayment
from commerce.settlement.stripe.provider import StripeProvider
from tradeloom.auth import CurrentPrincipal, Principal, requires
from tradeloom.concurrency import set_etag
from tradeloom.errors import Unavailable
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute, Tx

router = PrefixedRouter(prefix="/api/v1/stripe", tags=["payments"], route_class=TransactionalRoute)
Payer = Annotated[Principal, Depends(requires(Permission.PAYMENT_MANAGE))]


def install(app: FastAPI) -> None:
    """Card payments are on when a Stripe secret key is configured."""
    settings = app.state.settings
    app.state.stripe_gateway = StripeGateway.from_settings(settings) if settings.stripe_secret_key else None
    if app.state.stripe_gateway is not None:
        register_provider(StripeProvider(app.state.stripe_gateway))


def stripe_gateway(request: Request) -> StripeGateway:
    gateway: StripeGateway | None = request.app.state.stripe_gateway
    if gateway is None:
        raise Unavailable("Card payments are not configured (TRADELOOM_STRIPE_SECRET_KEY).",
                          code="stripe_not_configured")
    return gateway


Gateway = Annotated[StripeGateway, Depends(stripe_gateway)]


def payment_out(payment: StripePayment, response: Response | None = None) -> schemas.PaymentOut:
    if response is not None:
        set_etag(response, payment.version)
    return schemas.PaymentOut.model_validate(payment)


@router.post("/payments", status_code=201)
async def create_payment(body: schemas.PaymentCreate, principal: Payer, session: DbSession, gateway: Gateway,
                         response: Response, _key: Idempotent) -> schemas.PaymentOut:
    """Open a card payment (a Stripe PaymentIntent) to a supplier; confirm it with a card next."""
    payment = await service.create_payment(session, gateway, actor=principal.actor, **body.model_dump())
    response.headers["Location"] = f"{router.prefix}/payments/{payment.id}"
    return payment_out(payment, response)


@router.get("/payments")
async def list_payments(principal: CurrentPrincipal, session: DbSession) -> list[schemas.PaymentOut]:
    """Card payments your organization made or received, newest first."""
    return [payment_out(payment) for payment in await service.list_payments(session)]


@router.get("/payments/{payment_id}")
async def get_payment(payment_id: uuid.UUID, principal: CurrentPrincipal, session: DbSession,
                      response: Response) -> schemas.PaymentOut:
    """One card payment with what has been received and refunded."""
    return payment_out(await service.get_payment(session, payment_id), response)


@router.post("/payments/{payment_id}/confirm")
async def confirm_payment(payment_id: uuid.UUID, body: schemas.PaymentConfirm, principal: Payer, session: DbSession,
                          gateway: Gateway, response: Response, _key: Idempotent) -> schemas.PaymentOut:
    """Pay with a card; a declined card leaves the payment open with ``last_error``."""
    payment = await service.confirm_payment(session, gateway, actor=principal.actor, payment_id=payment_id,
                                            payment_method=body.payment_method)
    return payment_out(payment, response)


@router.post("/payments/{payment_id}/capture")
async def capture_payment(payment_id: uuid.UUID, principal: Payer, session: DbSession, gateway: Gateway,
                          response: Response, _key: Idempotent) -> schemas.PaymentOut:
    """Capture an authorised manual-capture payment."""
    payment = await service.capture_payment(session, gateway, actor=principal.actor, payment_id=payment_id)
    return payment_out(payment, response)


@router.post("/payments/{payment_id}/refunds", status_code=201)
async def refund_payment(payment_id: uuid.UUID, body: schemas.RefundCreate, principal: Payer, session: DbSession,
                         gateway: Gateway, key: Idempotent) -> schemas.RefundOut:
    """Refund part or all of a payment to the buyer's card."""
    refund = await service.refund_payment(session, gateway, actor=principal.actor, payment_id=payment_id,
                                          amount=body.amount, reason=body.reason, refund_key=key or str(uuid.uuid4()))
    return schemas.RefundOut.model_validate(refund)


@router.post("/webhook", responses={400: {"description": "bad Stripe-Signature; nothing stored"}})
async def stripe_webhook(request: Request, tx: Tx,
                         stripe_signature: Annotated[str | None, Header()] = None) -> schemas.WebhookAnswer:
    """Stripe's events about our PaymentIntents and refunds, verified by signature and stored once."""
    secret = request.app.state.settings.stripe_webhook_secret
    if secret is None:
        raise Unavailable("The Stripe webhook secret is not configured.", code="stripe_not_configured")
    event = webhooks.verified_event(await request.body(), stripe_signature, secret.get_secret_value())
    org_id, intent_id = webhooks.event_owner(event)
    if org_id is None:
        return schemas.WebhookAnswer(received=True, outcome="ignored")
    await tx.set_context(org_id=org_id, user_id=None)
    outcome = await webhooks.receive_event(await tx.session(), event, org_id=org_id, intent_id=intent_id)
    return schemas.WebhookAnswer(received=True, outcome=outcome)
