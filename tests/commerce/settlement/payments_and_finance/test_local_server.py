"""The official ``stripe`` library against the local stand-in: the documented shapes round-trip."""

import uuid
from decimal import Decimal

import pytest
import stripe

from commerce.settlement.providers import PaymentProvider, PaymentRequest, PaymentStatus
from commerce.settlement.stripe.gateway import StripeGateway, minor_units
from commerce.settlement.stripe.local_server import LocalStripeServer, parse_form, sign_payload
from commerce.settlement.stripe.provider import StripeProvider
from tests.stripe_support import STRIPE_KEY, WEBHOOK_SECRET
from tradeloom.errors import Invalid


def _client(server: LocalStripeServer, key: str = STRIPE_KEY) -> stripe.StripeClient:
    return stripe.StripeClient(key, base_addresses={"api": server.api_base}, http_client=stripe.HTTPXClient())


def test_form_encoding_brackets_become_nested_objects() -> None:
    assert parse_form("amount=100&metadata[a]=1&payment_method_types[0]=card") == {
        "amount": "100", "metadata": {"a": "1"}, "payment_method_types": {"0": "card"}}


def test_minor_units_are_exact() -> None:
    assert minor_units(Decimal("12.34"), "CNY") == 1234
    assert minor_units(Decimal("500"), "JPY") == 500
    with pytest.raises(Invalid):
        minor_units(Decimal("0.001"), "CNY")


async def test_intent_lifecycle_through_the_official_library(local_stripe: LocalStripeServer) -> None:
    # given
    client = _client(local_stripe)
    # when
    intent = await client.v1.payment_intents.create_async(
        {"amount": 1999, "currency": "cny", "capture_method": "manual", "metadata": {"k": "v"}})
    confirmed = await client.v1.payment_intents.confirm_async(intent.id, {"payment_method": "pm_card_visa"})
    captured = await client.v1.payment_intents.capture_async(intent.id)
    refund = await client.v1.refunds.create_async({"payment_intent": intent.id, "amount": 999})
    listed = await client.v1.payment_intents.list_async({"limit": 100})
    # then
    assert (intent.object, intent.status, intent.metadata["k"]) == ("payment_intent", "requires_payment_method", "v")
    assert (confirmed.status, confirmed.amount_capturable) == ("requires_capture", 1999)
    assert (captured.status, captured.amount_received) == ("succeeded", 1999)
    assert (refund.object, refund.amount, refund.status, refund.payment_intent) == ("refund", 999, "succeeded",
                                                                                    intent.id)
    assert intent.id in [item.id for item in listed.data]
    types = [e["type"] for e in local_stripe.stripe.events if e["data"]["object"].get("id") in (intent.id, refund.id)]
    assert types == ["payment_intent.created", "payment_intent.amount_capturable_updated",
                     "payment_intent.succeeded", "refund.created"]


async def test_errors_arrive_as_the_library_exceptions(local_stripe: LocalStripeServer) -> None:
    client = _client(local_stripe)
    intent = await client.v1.payment_intents.create_async({"amount": 500, "currency": "cny"})
    with pytest.raises(stripe.CardError) as declined:
        await client.v1.payment_intents.confirm_async(intent.id, {"payment_method": "pm_card_chargeDeclined"})
    assert (declined.value.http_status, declined.value.code) == (402, "card_declined")
    with pytest.raises(stripe.InvalidRequestError) as missing:
        await client.v1.payment_intents.retrieve_async("pi_missing")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")
    with pytest.raises(stripe.InvalidRequestError) as wrong_state:
        await client.v1.payment_intents.capture_async(intent.id)
    assert wrong_state.value.code == "payment_intent_unexpected_state"
    with pytest.raises(stripe.AuthenticationError):
        await _client(local_stripe, key="sk_test_wrong").v1.payment_intents.retrieve_async(intent.id)


async def test_idempotency_key_replays_the_first_answer(local_stripe: LocalStripeServer) -> None:
    gateway = StripeGateway(api_key=STRIPE_KEY, api_base=local_stripe.api_base)
    first, second = [await gateway.create_intent(payment_key="tl-payment-same", amount=Decimal("10.00"),
                                                 currency="CNY", capture_method="automatic", description="x",
                                                 metadata={}) for _ in range(2)]
    assert first.intent_id == second.intent_id


def test_signature_is_stripes_scheme_and_the_library_accepts_it() -> None:
    body = b'{"id": "evt_1", "object": "event", "type": "ping", "data": {"object": {}}}'
    header = sign_payload(body, WEBHOOK_SECRET)
    assert stripe.Webhook.construct_event(body, header, WEBHOOK_SECRET)["id"] == "evt_1"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, header, "whsec_other")


async def test_stripe_behind_the_provider_interface(local_stripe: LocalStripeServer) -> None:
    # given
    provider = StripeProvider(StripeGateway(api_key=STRIPE_KEY, api_base=local_stripe.api_base))
    request = PaymentRequest(payment_id=uuid.uuid4(), payer_org_id=uuid.uuid4(), payee_org_id=uuid.uuid4(),
                             amount=Decimal("80.00"), currency="CNY", reference="INV-1",
                             idempotency_key=f"tl-{uuid.uuid4()}", metadata={"payment_method": "pm_card_visa"})
    # when
    created = await provider.create(request)
    authorised = await provider.confirm(created.provider_ref)
    captured = await provider.capture(created.provider_ref, Decimal("60.00"))
    refunded = await provider.refund(created.provider_ref, Decimal("10.00"), idempotency_key="r-1")
    # then
    assert isinstance(provider, PaymentProvider)
    assert [r.status for r in (created, authorised, captured, refunded)] == [
        PaymentStatus.REQUIRES_ACTION, PaymentStatus.AUTHORIZED, PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED]
    assert (captured.amount, refunded.amount, refunded.currency) == (Decimal("60.00"), Decimal("10.00"), "CNY")
