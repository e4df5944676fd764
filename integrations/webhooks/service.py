"""Webhook subscriptions and deliveries as the API manages them (the sending is in ``jobs.py``)."""

import secrets
import uuid
from collections.abc import Sequence

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.connectors.secrets import credentials_box
from integrations.webhooks.models import WebhookDelivery, WebhookSubscription
from integrations.webhooks.ssrf import check_target
from tradeloom.audit import Actor, record_audit
from tradeloom.concurrency import check_version
from tradeloom.db import utcnow
from tradeloom.errors import NotFound, Unavailable
from tradeloom.outbox.service import emit
from tradeloom.secret_box import SecretBoxError

DELIVERY_REQUESTED = "webhook.delivery_requested"  # internal: asks the worker to send one delivery now


async def create_subscription(
    session: AsyncSession, *, actor: Actor, url: str, event_types: Sequence[str], description: str | None,
    allowed_hosts: frozenset[str],
) -> tuple[WebhookSubscription, str]:
    """Subscribe a URL to event types. The signing secret is made here and returned with the subscription,
    the only time it is shown; the row keeps it sealed."""
    check_target(url, allowed_hosts=allowed_hosts)
    subscription_id, secret = uuid.uuid4(), "whsec_" + secrets.token_urlsafe(32)
    subscription = WebhookSubscription(id=subscription_id, org_id=actor.org_id, url=url,
                                       event_types=sorted(set(event_types)), description=description,
                                       secret=credentials_box().seal(secret, context=secret_context(subscription_id)))
    session.add(subscription)
    await session.flush()
    await record_audit(session, actor=actor, action="webhook.subscribed", object_type="webhook_subscription",
                       object_id=subscription.id, details={"url": url, "event_types": list(event_types)})
    return subscription, secret


def secret_context(subscription_id: uuid.UUID) -> str:
    """What a sealed secret is bound to: copied into another subscription's row, it does not open."""
    return f"webhook:{subscription_id}:secret"


def open_secret(subscription: WebhookSubscription) -> str:
    """The plain signing secret (to sign a delivery, or to show the subscriber on the webhook page).

    ``Unavailable`` when it does not open: its key was dropped from ``TRADELOOM_SECRETS_KEY``, no key is
    configured in production, or the row was tampered with."""
    try:
        return credentials_box().open(subscription.secret, context=secret_context(subscription.id))
    except SecretBoxError as exc:
        raise Unavailable(f"The signing secret does not open ({exc}).", code="webhook_secret_unavailable") from None


async def get_subscription(session: AsyncSession, *, subscription_id: uuid.UUID) -> WebhookSubscription:
    subscription = await session.get(WebhookSubscription, subscription_id)
    if subscription is None:
        raise NotFound("No such webhook subscription.", code="webhook_not_found")
    return subscription


async def list_subscriptions(session: AsyncSession) -> list[WebhookSubscription]:
    return list((await session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.created_at))).all())


async def update_subscription(
    session: AsyncSession, *, actor: Actor, subscription_id: uuid.UUID, expected_version: int,
    url: str | None, event_types: Sequence[str] | None, is_active: bool | None, allowed_hosts: frozenset[str],
) -> WebhookSubscription:
    """Change the target, the events, or switch it on/off; switching on clears the failure streak."""
    subscription = await get_subscription(session, subscription_id=subscription_id)
    check_version(subscription.version, expected_version)
    if url is not None:
        check_target(url, allowed_hosts=allowed_hosts)
        subscription.url = url
    if event_types is not None:
        subscription.event_types = sorted(set(event_types))
    if is_active is not None:
        subscription.is_active = is_active
        if is_active:
            subscription.consecutive_failures, subscription.failing_since = 0, None
            subscription.disabled_reason = None
    await session.flush()
    await record_audit(session, actor=actor, action="webhook.updated", object_type="webhook_subscription",
                       object_id=subscription.id, details={"url": url, "is_active": is_active})
    return subscription


async def list_deliveries(
    session: AsyncSession, *, subscription_id: uuid.UUID, before_id: int | None, limit: int
) -> list[WebhookDelivery]:
    """The delivery log of one subscription, newest first."""
    await get_subscription(session, subscription_id=subscription_id)
    query = (select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
             .order_by(WebhookDelivery.id.desc()).limit(limit))
    if before_id:
        query = query.where(WebhookDelivery.id < before_id)
    return list((await session.scalars(query)).all())


async def replay_delivery(session: AsyncSession, *, actor: Actor, delivery_id: int) -> WebhookDelivery:
    """Send an earlier delivery's body again, as a new delivery (the log keeps both)."""
    original = await session.get(WebhookDelivery, delivery_id)
    if original is None:
        raise NotFound("No such webhook delivery.", code="webhook_delivery_not_found")
    return await _queue_delivery(session, actor=actor, subscription_id=original.subscription_id,
                                 event_id=original.event_id, topic=original.topic, body=original.body)


async def send_test(session: AsyncSession, *, actor: Actor, subscription_id: uuid.UUID) -> WebhookDelivery:
    """A ``webhook.ping`` to check that the receiver answers and verifies signatures."""
    await get_subscription(session, subscription_id=subscription_id)
    body = orjson.dumps({"id": 0, "topic": "webhook.ping", "created_at": utcnow().isoformat(), "payload": {}})
    return await _queue_delivery(session, actor=actor, subscription_id=subscription_id, event_id=0,
                                 topic="webhook.ping", body=body.decode())


async def _queue_delivery(
    session: AsyncSession, *, actor: Actor, subscription_id: uuid.UUID, event_id: int, topic: str, body: str
) -> WebhookDelivery:
    delivery = WebhookDelivery(org_id=actor.org_id, subscription_id=subscription_id, event_id=event_id,
                               topic=topic, body=body, is_replay=True, next_attempt_at=utcnow())
    session.add(delivery)
    await session.flush()
    await emit(session, org_id=actor.org_id, topic=DELIVERY_REQUESTED, payload={"delivery_id": delivery.id})
    await record_audit(session, actor=actor, action="webhook.delivery_requested", object_type="webhook_delivery",
                       object_id=delivery.id, details={"topic": topic})
    return delivery
