"""Sending webhooks (RQ jobs): fan a batch of outbox events out to matching subscriptions, deliver, retry, give up.

Retries back off exponentially with ±20 % jitter for up to three days, then the delivery is dead (kept in
the log, replayable). A subscription failing for a day with ten failures in a row is switched off, and
a ``webhook.subscription_disabled`` event says so. No transaction is held open during the HTTP call.
"""

import datetime as dt
import random
import uuid
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import httpx
import orjson
from rq import Queue
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from integrations.webhooks.models import WebhookDelivery, WebhookSubscription
from integrations.webhooks.service import DELIVERY_REQUESTED, open_secret
from integrations.webhooks.signing import SIGNATURE_HEADER, signature_header
from integrations.webhooks.ssrf import check_target
from tradeloom.db import job_tenant_session, utcnow
from tradeloom.errors import Invalid, Unavailable
from tradeloom.jobs import redis_connection, sync_engine
from tradeloom.outbox.service import emit_on
from tradeloom.settings import get_settings

RETRY_DELAYS_SECONDS = (60, 300, 1800, 7200, 21600, 43200, 86400, 86400, 86400)
GIVE_UP_AFTER = dt.timedelta(days=3)
DISABLE_AFTER_FAILURES = 10
DISABLE_AFTER_FAILING_FOR = dt.timedelta(hours=24)
NOT_FANNED_OUT = frozenset({DELIVERY_REQUESTED})


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    response_excerpt: str | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def fan_out_batch(events: list[dict[str, Any]]) -> list[int]:
    """Create one delivery per event and matching active subscription (idempotent per subscription and event)
    and queue them. Events are grouped by organization: one tenant transaction and one read of the
    subscriptions per organization, and no insert at all for an organization without a match. Each
    organization's deliveries are queued right after its commit, so a later organization failing (and the
    job being retried) loses none of them."""
    by_org: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for event in events:
        if event["topic"] not in NOT_FANNED_OUT:
            by_org.setdefault(uuid.UUID(event["org_id"]), []).append(event)
    created: list[int] = []
    for org_id, org_events in by_org.items():
        delivery_ids = _fan_out_for_org(org_id, org_events)
        for delivery_id in delivery_ids:
            _queue().enqueue(deliver, delivery_id, str(org_id))
        created += delivery_ids
    return created


def _fan_out_for_org(org_id: uuid.UUID, events: list[dict[str, Any]]) -> list[int]:
    with job_tenant_session(sync_engine(), org_id=org_id) as session:
        subscriptions = session.scalars(select(WebhookSubscription).where(WebhookSubscription.is_active)).all()
        if not subscriptions:
            return []
        now = utcnow()
        rows = [{"org_id": org_id, "subscription_id": s.id, "event_id": event["id"], "topic": event["topic"],
                 "body": body, "next_attempt_at": now}
                for event, body in ((e, orjson.dumps(e).decode()) for e in events) for s in subscriptions
                if any(fnmatchcase(event["topic"], p) for p in s.event_types)]
        if not rows:
            return []
        return list(session.scalars(
            insert(WebhookDelivery).values(rows)
            .on_conflict_do_nothing(index_elements=["subscription_id", "event_id"],
                                    index_where=~WebhookDelivery.is_replay)
            .returning(WebhookDelivery.id)
        ).all())


def deliver_requested(event: dict[str, Any]) -> None:
    """A delivery the API asked for (replay, test ping), queued through the outbox after its commit."""
    deliver(int(event["payload"]["delivery_id"]), event["org_id"])


def deliver(delivery_id: int, org_id: str) -> str:
    """One attempt; returns the delivery's status afterwards."""
    tenant = uuid.UUID(org_id)
    with job_tenant_session(sync_engine(), org_id=tenant) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        subscription = session.get(WebhookSubscription, delivery.subscription_id) if delivery else None
        if delivery is None or subscription is None:
            return "missing"
        if delivery.status in ("delivered", "dead") or not subscription.is_active:
            return delivery.status
        url, body = subscription.url, delivery.body.encode()
        secret, refusal = _signing_secret(subscription)
    attempt = refusal or _post(url, secret, body, delivery_id=delivery_id, topic=delivery.topic)
    with job_tenant_session(sync_engine(), org_id=tenant) as session:
        status, retry_in = _record(session, delivery_id, attempt)
    if retry_in is not None:
        _queue().enqueue_in(retry_in, deliver, delivery_id, org_id)
    return status


def _signing_secret(subscription: WebhookSubscription) -> tuple[str, Attempt | None]:
    """The plain secret, or an attempt that failed before sending: a delivery is never sent unsigned. It does
    not open when its key was dropped from ``TRADELOOM_SECRETS_KEY`` or the row was tampered with; the
    failure is logged and retried like a refusing receiver, so the streak ends in the automatic disable."""
    try:
        return open_secret(subscription), None
    except Unavailable as exc:
        return "", Attempt(status_code=None, response_excerpt=None, error=f"Not sent. {exc.message}"[:500])


def _post(url: str, secret: str, body: bytes, *, delivery_id: int, topic: str) -> Attempt:
    settings = get_settings()
    try:
        check_target(url, allowed_hosts=frozenset(h.lower() for h in settings.webhook_allowed_hosts))
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature_header(secret, body),
                   "Tradeloom-Event": topic, "Tradeloom-Delivery": str(delivery_id),
                   "User-Agent": "Tradeloom-Webhooks/1"}
        response = httpx.post(url, content=body, headers=headers, timeout=settings.webhook_timeout_seconds,
                              follow_redirects=False)
    except Invalid as exc:
        return Attempt(status_code=None, response_excerpt=None, error=exc.message)
    except httpx.HTTPError as exc:
        return Attempt(status_code=None, response_excerpt=None, error=f"{type(exc).__name__}: {exc}"[:500])
    return Attempt(status_code=response.status_code, response_excerpt=response.text[:500], error=None)


def _record(session: Session, delivery_id: int, attempt: Attempt) -> tuple[str, dt.timedelta | None]:
    delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    assert delivery is not None
    subscription = session.get(WebhookSubscription, delivery.subscription_id, with_for_update=True)
    assert subscription is not None
    now = utcnow()
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_response_excerpt = attempt.status_code, attempt.response_excerpt
    delivery.last_error = attempt.error
    if attempt.succeeded:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
        subscription.consecutive_failures, subscription.failing_since = 0, None
        return delivery.status, None
    subscription.consecutive_failures += 1
    subscription.failing_since = subscription.failing_since or now
    _disable_if_persistently_failing(session, subscription, now)
    retry_in = _next_delay(delivery.attempts)
    if retry_in is None or now + retry_in - delivery.created_at > GIVE_UP_AFTER or not subscription.is_active:
        delivery.status, delivery.next_attempt_at = "dead", None
        return delivery.status, None
    delivery.status, delivery.next_attempt_at = "failed", now + retry_in
    return delivery.status, retry_in


def _next_delay(attempts: int) -> dt.timedelta | None:
    if attempts > len(RETRY_DELAYS_SECONDS):
        return None
    base = RETRY_DELAYS_SECONDS[attempts - 1]
    return dt.timedelta(seconds=base * random.uniform(0.8, 1.2))  # noqa: S311 - jitter, not security


def _disable_if_persistently_failing(session: Session, subscription: WebhookSubscription, now: dt.datetime) -> None:
    assert subscription.failing_since is not None
    if (subscription.consecutive_failures >= DISABLE_AFTER_FAILURES
            and now - subscription.failing_since >= DISABLE_AFTER_FAILING_FOR and subscription.is_active):
        subscription.is_active = False
        subscription.disabled_reason = (f"{subscription.consecutive_failures} failed deliveries in a row since "
                                        f"{subscription.failing_since.isoformat()}")
        emit_on(session, org_id=subscription.org_id, topic="webhook.subscription_disabled",
                payload={"subscription_id": str(subscription.id), "url": subscription.url,
                         "reason": subscription.disabled_reason})


def _queue() -> Queue:
    return Queue("default", connection=redis_connection())
