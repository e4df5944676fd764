"""Reconciliation statements from the journal: both sides see the same, confirm, export; hostile requests."""

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import openpyxl
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement.invoice_models import Invoice
from tests.commerce.settlement.conftest import Deal
from tests.factories import Member, make_member
from tests.materials_factories import as_owner
from tests.settlement_factories import invoice, receive
from tests.stripe_support import count, open_payment, pay
from tradeloom.identity.roles import Role
from tradeloom.outbox.models import OutboxEvent

API = "/api/v1/account-statements"
TODAY = dt.datetime.now(dt.UTC).date()


async def finance_members(session: AsyncSession, deal: Deal) -> tuple[Member, Member]:
    orders = deal.world.orders
    await as_owner(session)
    supplier = await make_member(session, org=orders.supplier.org, roles=(Role.FINANCE,))
    buyer = await make_member(session, org=orders.buyer.org, roles=(Role.FINANCE,))
    return supplier, buyer


def query(member: Member, counterparty: Member, side: str, **overrides: Any) -> dict[str, Any]:
    return {"counterparty_org_id": str(counterparty.org.id), "side": side, "currency": "CNY",
            "period_start": str(TODAY - dt.timedelta(days=30)), "period_end": str(TODAY)} | overrides


async def invoiced_and_partly_paid(client: AsyncClient, session: AsyncSession, deal: Deal,
                                   supplier: Member, buyer: Member) -> Invoice:
    await receive(session, deal.world, deal.order, deal.line, "10")
    issued = await invoice(session, deal.world, deal.order, deal.line)
    payment = await open_payment(client, buyer, supplier, amount="500.00", invoice_id=str(issued.id),
                                 reference=issued.fapiao_number)
    assert (await pay(client, buyer, payment)).json()["status"] == "succeeded"
    return issued


async def test_both_parties_see_the_same_statement_and_agree_by_confirming_it(
    stripe_client: AsyncClient, session: AsyncSession, deal: Deal,
) -> None:
    # given an invoice of 1,130.00 and a card payment of 500.00 against it
    supplier, buyer = await finance_members(session, deal)
    issued = await invoiced_and_partly_paid(stripe_client, session, deal, supplier, buyer)
    # when
    seen_by_supplier = (await stripe_client.get(API, params=query(supplier, buyer, "supplier"),
                                                headers=supplier.headers)).json()
    seen_by_buyer = (await stripe_client.get(API, params=query(buyer, supplier, "buyer"),
                                             headers=buyer.headers)).json()
    # then
    assert [(line["category"], line["document"], Decimal(line["increase"]), Decimal(line["decrease"]),
             Decimal(line["balance"])) for line in seen_by_supplier["lines"]] == [
        ("invoice", issued.fapiao_number, Decimal("1130"), Decimal(0), Decimal("1130")),
        ("payment", issued.fapiao_number, Decimal(0), Decimal("500"), Decimal("630")),
    ]
    assert (Decimal(seen_by_supplier["opening_balance"]), Decimal(seen_by_supplier["closing_balance"])) == (0, 630)
    assert seen_by_buyer["digest"] == seen_by_supplier["digest"]
    assert seen_by_buyer["lines"] == seen_by_supplier["lines"]
    # when both confirm what they read
    first = await stripe_client.post(f"{API}/confirmations", headers=supplier.headers,
                                     json=query(supplier, buyer, "supplier") | {"digest": seen_by_supplier["digest"]})
    second = await stripe_client.post(f"{API}/confirmations", headers=buyer.headers,
                                      json=query(buyer, supplier, "buyer") | {"digest": seen_by_buyer["digest"]})
    again = await stripe_client.post(f"{API}/confirmations", headers=buyer.headers,
                                     json=query(buyer, supplier, "buyer") | {"digest": seen_by_buyer["digest"]})
    # then
    assert (first.status_code, first.json()["status"]) == (201, "awaiting_counterparty")
    assert (second.status_code, second.json()["status"]) == (201, "agreed")
    assert (again.status_code, again.json()["code"]) == (409, "statement_already_confirmed")
    assert await count(session, OutboxEvent, OutboxEvent.topic == "statement.confirmed") == 2


async def test_a_period_after_the_documents_opens_with_their_balance(
    stripe_client: AsyncClient, session: AsyncSession, deal: Deal,
) -> None:
    supplier, buyer = await finance_members(session, deal)
    await invoiced_and_partly_paid(stripe_client, session, deal, supplier, buyer)
    later = query(supplier, buyer, "supplier", period_start=str(TODAY + dt.timedelta(days=1)),
                  period_end=str(TODAY + dt.timedelta(days=31)))
    statement = (await stripe_client.get(API, params=later, headers=supplier.headers)).json()
    assert (Decimal(statement["opening_balance"]), statement["lines"], Decimal(statement["closing_balance"])) == (
        Decimal("630"), [], Decimal("630"))


async def test_a_stale_digest_outsiders_and_bad_periods_are_refused(
    stripe_client: AsyncClient, session: AsyncSession, deal: Deal,
) -> None:
    supplier, buyer = await finance_members(session, deal)
    await invoiced_and_partly_paid(stripe_client, session, deal, supplier, buyer)
    await as_owner(session)
    outsider = await make_member(session, roles=(Role.FINANCE,))
    stale = await stripe_client.post(f"{API}/confirmations", headers=supplier.headers,
                                     json=query(supplier, buyer, "supplier") | {"digest": "0" * 64})
    backwards = await stripe_client.get(API, headers=supplier.headers, params=query(
        supplier, buyer, "supplier", period_start=str(TODAY), period_end=str(TODAY - dt.timedelta(days=1))))
    foreign = (await stripe_client.get(API, params=query(outsider, buyer, "supplier"),
                                       headers=outsider.headers)).json()
    assert (stale.status_code, stale.json()["code"]) == (409, "statement_changed")
    assert (backwards.status_code, backwards.json()["code"]) == (422, "statement_period_invalid")
    assert (foreign["lines"], Decimal(foreign["closing_balance"])) == ([], 0)  # nothing of theirs is visible


async def test_exports_as_xlsx_and_pdf(stripe_client: AsyncClient, session: AsyncSession, deal: Deal) -> None:
    supplier, buyer = await finance_members(session, deal)
    await invoiced_and_partly_paid(stripe_client, session, deal, supplier, buyer)
    wanted = query(supplier, buyer, "supplier")
    workbook = await stripe_client.get(f"{API}/export.xlsx", params=wanted, headers=supplier.headers | {
        "Cookie": "tl_locale=en"})
    pdf = await stripe_client.get(f"{API}/export.pdf", params=wanted, headers=supplier.headers)
    rows = list(openpyxl.load_workbook(io.BytesIO(workbook.content)).active.values)  # type: ignore[union-attr]
    assert workbook.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert rows[-1][-1] == 630 and rows[-3][1] in ("Invoice", "发票")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
