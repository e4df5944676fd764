"""Stripe webhooks and the reconciliation job: signatures, replays, out-of-order events, the crash gap."""

from decimal import Decimal
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from commerce.settlement.models import JournalEntry
from commerce.settlement.stripe.gateway import StripeGateway
from commerce.settlement.stripe.jobs import reconcile_open_payments
from commerce.settlement.stripe.local_server import LocalStripeServer
from commerce.settlement.stripe.models import StripeEvent
from tests.stripe_support import PAYMENTS_API as API
from tests.stripe_support import count, open_payment, parties, pay, signed_delivery
from tradeloom.db import utcnow
from tradeloom.outbox.models import OutboxEvent
from tradeloom.settings import Settings

WEBHOOK = "/api/v1/stripe/webhook"


def events_of(server: LocalStripeServer, intent_id: str, event_type: str) -> list[dict[str, Any]]:
    return [event for event in server.stripe.events
            if event["type"] == event_type and event["data"]["object"].get("id") == intent_id]


async def deliver(client: AsyncClient, event: dict[str, Any], secret: str | None = None) -> Any:
    body, headers = signed_delivery(event, *([secret] if secret else []))
    return await client.post(WEBHOOK, content=body, headers=headers)


async def authorised_payment(client: AsyncClient, session: AsyncSession) -> tuple[Any, dict[str, Any]]:
    buyer, supplier = await parties(session)
    payment = await open_payment(client, buyer, supplier, capture_method="manual", amount="300.00")
    assert (await pay(client, buyer, payment)).json()["status"] == "requires_capture"
    return buyer, payment


async def test_a_crash_after_stripes_success_is_closed_by_reconciliation_and_the_late_webhook_adds_nothing(
    stripe_client: AsyncClient, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession],
    local_stripe: LocalStripeServer, stripe_settings: Settings,
) -> None:
    # given: the capture reached Stripe, but our process died before it wrote anything
    buyer, payment = await authorised_payment(stripe_client, session)
    gateway = StripeGateway.from_settings(stripe_settings)
    await gateway.capture(payment["payment_intent_id"])
    before = (await stripe_client.get(f"{API}/{payment['id']}", headers=buyer.headers)).json()
    # when
    reconciled = await reconcile_open_payments(sessionmaker, gateway, untouched_since=utcnow())
    again = await reconcile_open_payments(sessionmaker, gateway, untouched_since=utcnow())
    late = await deliver(stripe_client, events_of(local_stripe, payment["payment_intent_id"],
                                                  "payment_intent.succeeded")[0])
    # then
    after = (await stripe_client.get(f"{API}/{payment['id']}", headers=buyer.headers)).json()
    assert (before["status"], Decimal(before["amount_received"])) == ("requires_capture", 0)
    assert (reconciled, again) == (1, 0)
    assert (after["status"], Decimal(after["amount_received"])) == ("succeeded", Decimal("300.00"))
    assert late.json() == {"received": True, "outcome": "applied"}
    assert await count(session, OutboxEvent, OutboxEvent.topic == "payment.received") == 1
    assert await count(session, JournalEntry, JournalEntry.kind == "payment.stripe") == 1


async def test_the_webhook_alone_closes_the_gap_and_a_replay_is_a_duplicate(
    stripe_client: AsyncClient, session: AsyncSession, local_stripe: LocalStripeServer, stripe_settings: Settings,
) -> None:
    _buyer, payment = await authorised_payment(stripe_client, session)
    await StripeGateway.from_settings(stripe_settings).capture(payment["payment_intent_id"])
    succeeded = events_of(local_stripe, payment["payment_intent_id"], "payment_intent.succeeded")[0]
    first, replay = await deliver(stripe_client, succeeded), await deliver(stripe_client, succeeded)
    assert (first.json()["outcome"], replay.json()["outcome"]) == ("applied", "duplicate")
    assert await count(session, OutboxEvent, OutboxEvent.topic == "payment.received") == 1
    assert await count(session, StripeEvent, StripeEvent.event_id == succeeded["id"]) == 1


async def test_events_out_of_order_never_move_a_payment_back(
    stripe_client: AsyncClient, session: AsyncSession, local_stripe: LocalStripeServer,
) -> None:
    # given: a captured payment whose earlier "authorised" event arrives last
    buyer, payment = await authorised_payment(stripe_client, session)
    await stripe_client.post(f"{API}/{payment['id']}/capture", headers=buyer.headers)
    authorised = events_of(local_stripe, payment["payment_intent_id"], "payment_intent.amount_capturable_updated")
    # when
    answer = await deliver(stripe_client, authorised[0])
    # then
    after = (await stripe_client.get(f"{API}/{payment['id']}", headers=buyer.headers)).json()
    assert answer.json()["outcome"] == "applied"
    assert (after["status"], Decimal(after["amount_received"])) == ("succeeded", Decimal("300.00"))
    assert await count(session, OutboxEvent, OutboxEvent.topic == "payment.received") == 1


async def test_a_refund_event_after_our_own_refund_posts_nothing_more(
    stripe_client: AsyncClient, session: AsyncSession, local_stripe: LocalStripeServer,
) -> None:
    buyer, payment = await authorised_payment(stripe_client, session)
    await stripe_client.post(f"{API}/{payment['id']}/capture", headers=buyer.headers)
    refund = (await stripe_client.post(f"{API}/{payment['id']}/refunds", json={"amount": "100.00"},
                                       headers=buyer.headers)).json()
    event = next(e for e in local_stripe.stripe.events if e["data"]["object"].get("id") == refund["refund_id"])
    assert (await deliver(stripe_client, event)).json()["outcome"] == "applied"
    after = (await stripe_client.get(f"{API}/{payment['id']}", headers=buyer.headers)).json()
    assert Decimal(after["amount_refunded"]) == Decimal("100.00")
    assert await count(session, OutboxEvent, OutboxEvent.topic == "payment.refunded") == 1


async def test_a_bad_signature_is_400_and_stores_nothing(
    stripe_client: AsyncClient, session: AsyncSession, local_stripe: LocalStripeServer,
) -> None:
    _buyer, payment = await authorised_payment(stripe_client, session)
    event = events_of(local_stripe, payment["payment_intent_id"], "payment_intent.created")[0]
    forged = await deliver(stripe_client, event, secret="whsec_not_ours")
    body, headers = signed_delivery(event)
    tampered = await stripe_client.post(WEBHOOK, content=body.replace(b"300", b"900"), headers=headers)
    unsigned = await stripe_client.post(WEBHOOK, content=body, headers={"Content-Type": "application/json"})
    for answer in (forged, tampered, unsigned):
        assert answer.status_code == 400
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "stripe_signature_invalid"
    assert await count(session, StripeEvent) == 0


async def test_signed_events_that_are_not_ours_or_not_events_are_answered_without_effect(
    stripe_client: AsyncClient, session: AsyncSession,
) -> None:
    foreign = {"id": "evt_foreign", "object": "event", "type": "payment_intent.succeeded",
               "data": {"object": {"id": "pi_x", "object": "payment_intent", "metadata": {}}}}
    body, headers = signed_delivery({"id": 7})
    assert (await deliver(stripe_client, foreign)).json() == {"received": True, "outcome": "ignored"}
    malformed = await stripe_client.post(WEBHOOK, content=body, headers=headers)
    assert (malformed.status_code, malformed.json()["code"]) == (400, "stripe_event_malformed")
    assert (await session.scalars(select(StripeEvent.event_id))).all() == []
