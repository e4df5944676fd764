"""Supply-chain finance over the API: marketplace, offer, assignment as evidence, settlement to the financier,
dynamic discounting, a card payment of an assigned invoice redirected, credit inputs; hostile cases."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement.finance import service
from commerce.settlement.invoice_models import Invoice
from commerce.settlement.journal import AccountKind as A
from ledger.models import EvidenceRecord
from tests.commerce.settlement.conftest import Deal
from tests.factories import Member, make_member
from tests.materials_factories import act_as, as_owner, owner_actor
from tests.settlement_factories import invoice, receive
from tests.stripe_support import balance, count, open_payment, pay
from tradeloom.errors import Conflict
from tradeloom.identity.roles import OrgKind, Role

API = "/api/v1/finance"
ONE_DAY = dt.timedelta(days=1)


async def parties(session: AsyncSession, deal: Deal) -> tuple[Member, Member, Member]:
    await as_owner(session)
    supplier = await make_member(session, org=deal.world.orders.supplier.org, roles=(Role.FINANCE,))
    buyer = await make_member(session, org=deal.world.orders.buyer.org, roles=(Role.FINANCE,))
    financier = await make_member(session, roles=(Role.FINANCE,), kind=OrgKind.FINANCIER)
    return supplier, buyer, financier


async def approved_invoice(session: AsyncSession, deal: Deal) -> Invoice:
    await receive(session, deal.world, deal.order, deal.line, "10")
    return await invoice(session, deal.world, deal.order, deal.line)


async def post(client: AsyncClient, path: str, member: Member, body: dict[str, Any] | None = None) -> Any:
    return await client.post(f"{API}{path}", json=body, headers=member.headers)


async def listed(client: AsyncClient, member: Member) -> list[str]:
    return [r["id"] for r in (await client.get(f"{API}/requests?status=open", headers=member.headers)).json()]


async def test_factoring_assigns_the_receivable_and_the_buyer_pays_the_financier_at_maturity(
    client: AsyncClient, session: AsyncSession, deal: Deal,
) -> None:
    # given an approved invoice of 1,130.00 offered for early payment
    supplier, buyer, financier = await parties(session, deal)
    issued = await approved_invoice(session, deal)
    await as_owner(session)
    outsider = await make_member(session, roles=(Role.FINANCE,))
    request = (await post(client, "/requests", supplier, {"invoice_id": str(issued.id)})).json()
    on_market = (await listed(client, financier), await listed(client, outsider))
    # when a financier offers 12 % a year and the supplier accepts
    offer = (await post(client, f"/requests/{request['id']}/offers", financier, {"annual_rate_pct": "12"})).json()
    accepted = await post(client, f"/offers/{offer['id']}/accept", supplier)
    # then
    assert (request["id"] in on_market[0], request["id"] in on_market[1]) == (True, False)
    assert accepted.json()["status"] == "accepted"
    advance, discount = Decimal(offer["advance"]), Decimal(offer["discount"])
    assert advance + discount == Decimal("1130.00") and discount > 0
    assert await balance(session, supplier, A.BANK) == advance
    assert await balance(session, supplier, A.RECEIVABLE) == 0
    assert await balance(session, financier, A.RECEIVABLE) == Decimal("1130.00")
    assert await count(session, EvidenceRecord, EvidenceRecord.kind == "receivable.assigned") == 1
    assert request["id"] not in await listed(client, financier)  # no longer on the market
    # when the buyer settles at maturity
    assignment = (await client.get(f"{API}/assignments", headers=buyer.headers)).json()[0]
    settled = await post(client, f"/assignments/{assignment['id']}/settle", buyer)
    again = await post(client, f"/assignments/{assignment['id']}/settle", buyer)
    # then the money went to the financier, not the supplier
    assert settled.json()["status"] == "settled"
    assert (again.status_code, again.json()["code"]) == (409, "finance_already_settled")
    assert await balance(session, financier, A.BANK) == discount
    assert await balance(session, financier, A.RECEIVABLE) == 0
    assert await balance(session, buyer, A.PAYABLE) == 0
    assert await balance(session, supplier, A.BANK) == advance


async def test_a_card_payment_of_an_assigned_invoice_goes_to_the_financier(
    stripe_client: AsyncClient, session: AsyncSession, deal: Deal,
) -> None:
    supplier, buyer, financier = await parties(session, deal)
    issued = await approved_invoice(session, deal)
    request = (await post(stripe_client, "/requests", supplier, {"invoice_id": str(issued.id)})).json()
    offer = (await post(stripe_client, f"/requests/{request['id']}/offers", financier, {"annual_rate_pct": "6"})).json()
    await post(stripe_client, f"/offers/{offer['id']}/accept", supplier)
    payment = await open_payment(stripe_client, buyer, supplier, amount="1130.00", invoice_id=str(issued.id))
    assert (await pay(stripe_client, buyer, payment)).json()["status"] == "succeeded"
    assert await balance(session, financier, A.RECEIVABLE) == 0
    assert await balance(session, supplier, A.BANK) == Decimal(offer["advance"])


async def test_dynamic_discounting_the_buyer_pays_early_for_a_discount(
    client: AsyncClient, session: AsyncSession, deal: Deal,
) -> None:
    supplier, buyer, _ = await parties(session, deal)
    issued = await approved_invoice(session, deal)
    request = (await post(client, "/requests", supplier, {"invoice_id": str(issued.id)})).json()
    offer = (await post(client, f"/requests/{request['id']}/offers", buyer, {"annual_rate_pct": "8"})).json()
    await post(client, f"/offers/{offer['id']}/accept", supplier)
    assert offer["kind"] == "dynamic_discount"
    assert await balance(session, supplier, A.BANK) == Decimal(offer["advance"])
    assert await balance(session, buyer, A.PAYABLE) == 0
    assert await balance(session, buyer, A.FINANCING) == -Decimal(offer["discount"])


async def test_refusals(client: AsyncClient, session: AsyncSession, deal: Deal) -> None:
    supplier, buyer, financier = await parties(session, deal)
    await receive(session, deal.world, deal.order, deal.line, "4")
    approved = await invoice(session, deal.world, deal.order, deal.line, quantity="4")
    exception = await invoice(session, deal.world, deal.order, deal.line, quantity="3")
    not_matched = await post(client, "/requests", supplier, {"invoice_id": str(exception.id)})
    by_buyer = await post(client, "/requests", buyer, {"invoice_id": str(approved.id)})
    request = (await post(client, "/requests", supplier, {"invoice_id": str(approved.id)})).json()
    twice = await post(client, "/requests", supplier, {"invoice_id": str(approved.id)})
    by_supplier = await post(client, f"/requests/{request['id']}/offers", supplier, {"annual_rate_pct": "5"})
    usurious = await post(client, f"/requests/{request['id']}/offers", financier, {"annual_rate_pct": "40"})
    offer = (await post(client, f"/requests/{request['id']}/offers", financier, {"annual_rate_pct": "5"})).json()
    by_financier = await post(client, f"/offers/{offer['id']}/accept", financier)
    assert (not_matched.status_code, not_matched.json()["code"]) == (409, "finance_invoice_not_approved")
    assert (by_buyer.status_code, by_buyer.json()["code"]) == (403, "finance_not_supplier")
    assert (twice.status_code, twice.json()["code"]) == (409, "finance_request_exists")
    assert (by_supplier.status_code, by_supplier.json()["code"]) == (403, "finance_not_offeror")
    assert (usurious.status_code, usurious.json()["code"]) == (422, "finance_rate_invalid")
    assert (by_financier.status_code, by_financier.json()["code"]) == (403, "finance_not_supplier")


async def test_offers_expire_and_can_be_withdrawn_by_their_maker_only(
    client: AsyncClient, session: AsyncSession, deal: Deal,
) -> None:
    # given an approved invoice offered for early payment
    supplier, _, financier = await parties(session, deal)
    issued = await approved_invoice(session, deal)
    request = (await post(client, "/requests", supplier, {"invoice_id": str(issued.id)})).json()
    offers = f"/requests/{request['id']}/offers"
    today = dt.date.today()
    # when offers are made expiring yesterday, after maturity, and today
    past = await post(client, offers, financier, {"annual_rate_pct": "8", "expires_on": str(today - ONE_DAY)})
    late = await post(client, offers, financier, {"annual_rate_pct": "8",
                                                  "expires_on": str(issued.due_date + ONE_DAY)})
    offer = (await post(client, offers, financier, {"annual_rate_pct": "8", "expires_on": str(today)})).json()
    # then only the last stands; the day after, it can no longer be accepted
    assert (past.status_code, past.json()["code"]) == (422, "finance_offer_expiry_invalid")
    assert (late.status_code, late.json()["code"]) == (422, "finance_offer_expiry_invalid")
    assert offer["expires_on"] == str(today)
    await act_as(session, supplier)
    with pytest.raises(Conflict) as expired:
        async with session.begin_nested():
            await service.accept_offer(session, actor=owner_actor(supplier), offer_id=uuid.UUID(offer["id"]),
                                       today=today + ONE_DAY)
    assert expired.value.code == "finance_offer_expired"
    # when the supplier tries to withdraw it, then the financier does, twice
    by_supplier = await post(client, f"/offers/{offer['id']}/withdraw", supplier)
    withdrawn = await post(client, f"/offers/{offer['id']}/withdraw", financier)
    again = await post(client, f"/offers/{offer['id']}/withdraw", financier)
    accepted = await post(client, f"/offers/{offer['id']}/accept", supplier)
    # then only the maker could, once, and a withdrawn offer cannot be accepted
    assert (by_supplier.status_code, by_supplier.json()["code"]) == (403, "finance_not_offeror")
    assert (withdrawn.status_code, withdrawn.json()["status"]) == (200, "withdrawn")
    assert (again.status_code, again.json()["code"]) == (409, "finance_offer_closed")
    assert (accepted.status_code, accepted.json()["code"]) == (409, "finance_request_closed")


async def test_credit_inputs_count_volumes_and_disputes(client: AsyncClient, session: AsyncSession,
                                                        deal: Deal) -> None:
    supplier, _, _ = await parties(session, deal)
    await receive(session, deal.world, deal.order, deal.line, "4")
    await invoice(session, deal.world, deal.order, deal.line, quantity="4")
    await invoice(session, deal.world, deal.order, deal.line, quantity="3")
    inputs = (await client.get(f"{API}/credit-inputs", headers=supplier.headers)).json()
    assert (inputs["invoices"], inputs["disputed_invoices"], inputs["paid_invoices"]) == (2, 1, 0)
    assert Decimal(inputs["volume_by_currency"]["CNY"]) == Decimal("791.00")
    # the supplier scorecard: 1 of 2 invoices clean, 1 of 1 receipt line on time, 4 of 4 accepted, 1 quick
    # confirmation: 30·2.5/4 + 25·2.5/4 + 15·2.5/5 + 10·2.5/4 + 10·0.5 + 10·0.5 = 58.1
    assert (inputs["performance_score"], inputs["performance_stars"]) == ("58.1", "3.3")
