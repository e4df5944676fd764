"""Real concurrency (committed transactions): the same success reported at once by two webhook deliveries and
the reconciliation job is posted exactly once."""

import asyncio

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from commerce.settlement.models import JournalEntry
from commerce.settlement.stripe.gateway import StripeGateway
from commerce.settlement.stripe.jobs import reconcile_open_payments
from commerce.settlement.stripe.local_server import LocalStripeServer
from tests.stripe_support import count, open_payment, parties, pay, signed_delivery
from tradeloom.db import make_sessionmaker, utcnow
from tradeloom.outbox.models import OutboxEvent
from tradeloom.settings import Settings


async def test_concurrent_reports_of_one_success_post_once(
    committed_stripe_client: AsyncClient, engine: AsyncEngine, local_stripe: LocalStripeServer,
    stripe_settings: Settings,
) -> None:
    # given an authorised payment captured at Stripe while our side never heard of it
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as setup, setup.begin():
        buyer, supplier = await parties(setup)
    client = committed_stripe_client
    payment = await open_payment(client, buyer, supplier, capture_method="manual", amount="88.00")
    assert (await pay(client, buyer, payment)).json()["status"] == "requires_capture"
    gateway = StripeGateway.from_settings(stripe_settings)
    await gateway.capture(payment["payment_intent_id"])
    event = next(e for e in local_stripe.stripe.events if e["type"] == "payment_intent.succeeded"
                 and e["data"]["object"]["id"] == payment["payment_intent_id"])
    body, headers = signed_delivery(event)
    # when two deliveries and the reconciliation job race
    first, second, _ = await asyncio.gather(
        client.post("/api/v1/stripe/webhook", content=body, headers=headers),
        client.post("/api/v1/stripe/webhook", content=body, headers=headers),
        reconcile_open_payments(sessionmaker, gateway, untouched_since=utcnow()),
    )
    # then
    assert sorted([first.json()["outcome"], second.json()["outcome"]]) == ["applied", "duplicate"]
    async with sessionmaker() as check:
        assert await count(check, JournalEntry, JournalEntry.kind == "payment.stripe") == 1
        assert await count(check, OutboxEvent, OutboxEvent.topic == "payment.received") == 1

