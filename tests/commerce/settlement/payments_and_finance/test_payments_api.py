"""Card payments over the API against the local Stripe stand-in: pay, decline, capture, refund, tenants."""

from decimal import Decimal

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement.journal import AccountKind
from ledger.models import EvidenceRecord
from tests.factories import make_member
from tests.stripe_support import PAYMENTS_API as API
from tests.stripe_support import balance, count, open_payment, parties, pay
from tradeloom.identity.roles import Role
from tradeloom.outbox.models import OutboxEvent


async def test_paying_by_card_posts_the_payment_once_with_event_and_evidence(
    stripe_client: AsyncClient, session: AsyncSession,
) -> None:
    # given
    buyer, supplier = await parties(session)
    payment = await open_payment(stripe_client, buyer, supplier)
    # when
    paid = await pay(stripe_client, buyer, payment)
    # then
    assert paid.status_code == 200, paid.text
    assert (paid.json()["status"], Decimal(paid.json()["amount_received"])) == ("succeeded", Decimal("1130.00"))
    assert payment["payment_intent_id"].startswith("pi_") and payment["status"] == "requires_payment_method"
    assert await count(session, OutboxEvent, OutboxEvent.topic == "payment.received") == 1
    assert await balance(session, supplier, AccountKind.BANK) == Decimal("1130.00")
    assert await balance(session, supplier, AccountKind.RECEIVABLE) == Decimal("-1130.00")
    assert await balance(session, buyer, AccountKind.BANK) == Decimal("-1130.00")
    assert await count(session, EvidenceRecord, EvidenceRecord.subject == f"stripe-payment:{payment['id']}") == 1
    seen_by_supplier = await stripe_client.get(f"{API}/{payment['id']}", headers=supplier.headers)
    assert seen_by_supplier.json()["status"] == "succeeded"


async def test_a_declined_card_leaves_the_payment_open_to_retry(stripe_client: AsyncClient,
                                                                session: AsyncSession) -> None:
    buyer, supplier = await parties(session)
    payment = await open_payment(stripe_client, buyer, supplier)
    declined = await pay(stripe_client, buyer, payment, "pm_card_chargeDeclined")
    assert declined.status_code == 200
    assert (declined.json()["status"], declined.json()["last_error"]) == ("requires_payment_method",
                                                                          "Your card was declined.")
    assert (await pay(stripe_client, buyer, payment)).json()["status"] == "succeeded"


async def test_manual_capture_then_partial_refunds_up_to_what_was_received(stripe_client: AsyncClient,
                                                                           session: AsyncSession) -> None:
    # given an authorised payment
    buyer, supplier = await parties(session)
    payment = await open_payment(stripe_client, buyer, supplier, capture_method="manual", amount="200.00")
    assert (await pay(stripe_client, buyer, payment)).json()["status"] == "requires_capture"
    # when
    captured = await stripe_client.post(f"{API}/{payment['id']}/capture", headers=buyer.headers)
    refund = await stripe_client.post(f"{API}/{payment['id']}/refunds", json={"amount": "50.00"},
                                      headers=buyer.headers | {"Idempotency-Key": "refund-0001"})
    replay = await stripe_client.post(f"{API}/{payment['id']}/refunds", json={"amount": "50.00"},
                                      headers=buyer.headers | {"Idempotency-Key": "refund-0001"})
    too_much = await stripe_client.post(f"{API}/{payment['id']}/refunds", json={"amount": "150.01"},
                                        headers=buyer.headers)
    # then
    assert captured.json()["status"] == "succeeded"
    assert refund.status_code == 201 and replay.json()["refund_id"] == refund.json()["refund_id"]
    assert too_much.status_code == 409 and too_much.json()["code"] == "refund_exceeds_received"
    after = (await stripe_client.get(f"{API}/{payment['id']}", headers=buyer.headers)).json()
    assert Decimal(after["amount_refunded"]) == Decimal("50.00")
    assert await count(session, OutboxEvent, OutboxEvent.topic == "payment.refunded") == 1
    assert await balance(session, supplier, AccountKind.BANK) == Decimal("150.00")
    assert await balance(session, buyer, AccountKind.PAYABLE) == Decimal("150.00")


async def test_other_organizations_cannot_see_or_move_the_payment(stripe_client: AsyncClient,
                                                                  session: AsyncSession) -> None:
    buyer, supplier = await parties(session)
    stranger = await make_member(session, roles=(Role.FINANCE,))
    payment = await open_payment(stripe_client, buyer, supplier)
    assert (await stripe_client.get(f"{API}/{payment['id']}", headers=stranger.headers)).status_code == 404
    assert (await pay(stripe_client, stranger, payment)).status_code == 404
    supplier_pays = await pay(stripe_client, supplier, payment)
    assert (supplier_pays.status_code, supplier_pays.json()["code"]) == (403, "stripe_payment_not_payer")
    assert [p["id"] for p in (await stripe_client.get(API, headers=stranger.headers)).json()] == []


async def test_bad_requests_are_refused_before_stripe_is_called(stripe_client: AsyncClient,
                                                                session: AsyncSession) -> None:
    buyer, supplier = await parties(session)
    to_self = await stripe_client.post(API, headers=buyer.headers, json={
        "supplier_org_id": str(buyer.org.id), "amount": "1.00", "currency": "CNY", "reference": "x"})
    too_fine = await stripe_client.post(API, headers=buyer.headers, json={
        "supplier_org_id": str(supplier.org.id), "amount": "1.001", "currency": "CNY", "reference": "x"})
    buyer_clerk = await make_member(session, org=buyer.org, roles=(Role.BUYER,))
    no_permission = await stripe_client.post(API, headers=buyer_clerk.headers, json={
        "supplier_org_id": str(supplier.org.id), "amount": "1.00", "currency": "CNY", "reference": "x"})
    assert (to_self.status_code, to_self.json()["code"]) == (422, "payment_to_self")
    assert (too_fine.status_code, too_fine.json()["code"]) == (422, "amount_precision")
    assert no_permission.status_code == 403


async def test_card_payments_off_without_a_key(client: AsyncClient, session: AsyncSession) -> None:
    buyer, supplier = await parties(session)
    answer = await client.post(API, headers=buyer.headers, json={
        "supplier_org_id": str(supplier.org.id), "amount": "1.00", "currency": "CNY", "reference": "x"})
    assert (answer.status_code, answer.json()["code"]) == (503, "stripe_not_configured")
