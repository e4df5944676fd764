"""``/api/v1/webhooks``: subscribe URLs to events, test them, read the delivery log, replay deliveries."""

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request, Response

from integrations.webhooks import service
from integrations.webhooks.schemas import (
    DeliveryOut,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionOut,
    SubscriptionUpdate,
)
from tradeloom.auth import Principal, requires
from tradeloom.concurrency import ExpectedVersion, set_etag
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix="/api/v1/webhooks", tags=["webhooks"], route_class=TransactionalRoute)
Manager = Annotated[Principal, Depends(requires(Permission.INTEGRATION_MANAGE))]


def _allowed_hosts(request: Request) -> frozenset[str]:
    return frozenset(host.lower() for host in request.app.state.settings.webhook_allowed_hosts)


@router.post("", status_code=201)
async def subscribe(body: SubscriptionCreate, request: Request, principal: Manager, session: DbSession,
                    _key: Idempotent) -> SubscriptionCreated:
    """Subscribe a URL; the response carries the signing secret, the only time it is shown."""
    subscription, secret = await service.create_subscription(
        session, actor=principal.actor, url=body.url, event_types=body.event_types, description=body.description,
        allowed_hosts=_allowed_hosts(request),
    )
    return SubscriptionCreated(**SubscriptionOut.model_validate(subscription).model_dump(), secret=secret)


@router.get("")
async def list_subscriptions(principal: Manager, session: DbSession) -> list[SubscriptionOut]:
    """Your organization's webhook subscriptions."""
    return [SubscriptionOut.model_validate(s) for s in await service.list_subscriptions(session)]


@router.get("/{subscription_id}")
async def get_subscription(subscription_id: uuid.UUID, principal: Manager, session: DbSession,
                           response: Response) -> SubscriptionOut:
    """One subscription with its failure streak."""
    subscription = await service.get_subscription(session, subscription_id=subscription_id)
    set_etag(response, subscription.version)
    return SubscriptionOut.model_validate(subscription)


@router.patch("/{subscription_id}")
async def update_subscription(subscription_id: uuid.UUID, body: SubscriptionUpdate, request: Request,
                              principal: Manager, session: DbSession, response: Response,
                              expected_version: ExpectedVersion) -> SubscriptionOut:
    """Change URL or events, or switch it on/off (switching on clears the failure streak)."""
    subscription = await service.update_subscription(
        session, actor=principal.actor, subscription_id=subscription_id, expected_version=expected_version,
        url=body.url, event_types=body.event_types, is_active=body.is_active, allowed_hosts=_allowed_hosts(request),
    )
    set_etag(response, subscription.version)
    return SubscriptionOut.model_validate(subscription)


@router.post("/{subscription_id}/test", status_code=202)
async def send_test(subscription_id: uuid.UUID, principal: Manager, session: DbSession) -> DeliveryOut:
    """Send a signed ``webhook.ping`` now; watch its delivery in the log."""
    return DeliveryOut.model_validate(
        await service.send_test(session, actor=principal.actor, subscription_id=subscription_id))


@router.get("/{subscription_id}/deliveries")
async def list_deliveries(
    subscription_id: uuid.UUID, principal: Manager, session: DbSession,
    before_id: Annotated[int | None, Query(ge=1)] = None, limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[DeliveryOut]:
    """The delivery log: status, attempts, the receiver's last answer."""
    deliveries = await service.list_deliveries(session, subscription_id=subscription_id, before_id=before_id,
                                               limit=limit)
    return [DeliveryOut.model_validate(d) for d in deliveries]


@router.post("/deliveries/{delivery_id}/replay", status_code=202)
async def replay_delivery(delivery_id: int, principal: Manager, session: DbSession, _key: Idempotent) -> DeliveryOut:
    """Send a delivery's event again (a new delivery in the log)."""
    return DeliveryOut.model_validate(
        await service.replay_delivery(session, actor=principal.actor, delivery_id=delivery_id))
