"""Configurable tax rates: the seeded China VAT table, the operator's API (others are refused), new rates and
periods, and the material-class default used by the "wrong tax rate for the material class" check. The order:
10 hex bolts (class 100101, under 1001) at 100.00, ordered at 13 %."""

import datetime as dt
from decimal import Decimal

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement.tax_rates import service as tax_rates
from tests.commerce.settlement.conftest import Deal
from tests.factories import Member, make_member
from tests.materials_factories import as_owner, owner_actor
from tests.settlement_factories import receive
from tests.tradeloom.test_pages import sign_in
from tradeloom.identity.roles import OrgKind, Role

URL = "/api/v1/settlement"
RATES = f"{URL}/tax-rates"


def _invoice(deal: Deal, tax_rate: str, number: str) -> dict[str, object]:
    return {"fapiao_type": "special", "fapiao_number": number, "issue_date": "2026-11-20", "lines": [
        {"order_id": str(deal.order.id), "order_line_id": str(deal.line.id), "quantity": "10",
         "unit_price": "100.00", "tax_rate": tax_rate}]}


async def _operator(session: AsyncSession) -> Member:
    return await make_member(session, roles=(Role.PLATFORM_ADMIN,), kind=OrgKind.PLATFORM_OPERATOR)


async def test_china_vat_rates_are_seeded(client: AsyncClient, deal: Deal) -> None:
    listed = await client.get(RATES, params={"country": "CN"}, headers=deal.world.orders.buyer.headers)
    assert listed.status_code == 200
    assert sorted((row["code"], row["rate"]) for row in listed.json()) == [
        ("0", "0.000000"), ("13", "0.130000"), ("6", "0.060000"), ("9", "0.090000"), ("exempt", "0.000000")]


async def test_only_the_platform_operator_changes_the_table(client: AsyncClient, session: AsyncSession,
                                                            deal: Deal) -> None:
    body = {"code": "5", "rate_pct": "5", "name_zh": "5% 征收率", "name_en": "5% simplified",
            "valid_from": "2026-01-01"}
    refused = await client.post(RATES, json=body, headers=deal.world.orders.supplier.headers)
    class_refused = await client.put(f"{RATES}/classes/1001", json={"tax_rate_code": "9"},
                                     headers=deal.world.orders.supplier.headers)
    assert (refused.status_code, class_refused.status_code) == (403, 403)
    assert refused.headers["content-type"].startswith("application/problem+json")
    operator = await _operator(session)
    added = await client.post(RATES, json=body, headers=operator.headers)
    assert added.status_code == 201, added.text
    assert (added.json()["code"], added.json()["rate"]) == ("5", "0.050000")
    overlapping = await client.post(RATES, json=body | {"valid_from": "2026-06-01"}, headers=operator.headers)
    assert (overlapping.status_code, overlapping.json()["code"]) == (422, "tax_rate_period_overlaps")
    ended = await client.post(f"{RATES}/{added.json()['id']}/end", json={"valid_to": "2026-12-31"},
                              headers=operator.headers)
    assert ended.json()["valid_to"] == "2026-12-31"
    unknown_class = await client.put(f"{RATES}/classes/9999", json={"tax_rate_code": "9"}, headers=operator.headers)
    unknown_code = await client.put(f"{RATES}/classes/1001", json={"tax_rate_code": "7"}, headers=operator.headers)
    assert (unknown_class.status_code, unknown_code.json()["code"]) == (404, "tax_rate_unknown")


async def test_the_class_default_decides_the_invoice_rate(client: AsyncClient, session: AsyncSession,
                                                          deal: Deal) -> None:
    # given bolts (class 1001 and below) taxed at 9 % by default
    await receive(session, deal.world, deal.order, deal.line, "10")
    operator = await _operator(session)
    mapped = await client.put(f"{RATES}/classes/1001", json={"tax_rate_code": "9"}, headers=operator.headers)
    assert mapped.status_code == 200, mapped.text
    supplier = deal.world.orders.supplier.headers
    # when the supplier invoices at the order's 13 %
    wrong = await client.post(f"{URL}/invoices", json=_invoice(deal, "13", "24400011"), headers=supplier)
    # then it is the wrong rate for the material class
    assert (wrong.status_code, wrong.json()["code"]) == (422, "invoice_lines_invalid")
    assert wrong.json()["errors"][0]["detail"] == "tax rate 13 is not the rate of this material (9)"
    # and at 9 % it is issued with the exact amounts
    issued = await client.post(f"{URL}/invoices", json=_invoice(deal, "9", "24400012"), headers=supplier)
    assert issued.status_code == 201, issued.text
    assert tuple(Decimal(issued.json()[key]) for key in ("net_total", "tax_total", "gross_total")) == (
        Decimal("1000.00"), Decimal("90.00"), Decimal("1090.00"))


async def test_a_configured_rate_is_used_only_while_in_force(client: AsyncClient, session: AsyncSession,
                                                             deal: Deal) -> None:
    # given a 3 % rate from 2027 and bolts mapped to it
    await receive(session, deal.world, deal.order, deal.line, "10")
    operator = await _operator(session)
    added = await client.post(RATES, json={"code": "3", "rate_pct": "3", "name_zh": "3% 征收率",
                                           "name_en": "3% simplified", "valid_from": "2027-01-01"},
                              headers=operator.headers)
    assert added.status_code == 201
    await client.put(f"{RATES}/classes/100101", json={"tax_rate_code": "3"}, headers=operator.headers)
    supplier = deal.world.orders.supplier.headers
    # when invoiced in 2026: not in force
    early = await client.post(f"{URL}/invoices", json=_invoice(deal, "3", "24400021"), headers=supplier)
    assert early.json()["errors"][0]["detail"] == "tax rate 3 is not a rate in force on 2026-11-20"
    # then in 2027 it is, rounded half-up per line (1,000.00 × 3 % = 30.00)
    body = _invoice(deal, "3", "24400022") | {"issue_date": "2027-01-05"}
    issued = await client.post(f"{URL}/invoices", json=body, headers=supplier)
    assert issued.status_code == 201, issued.text
    assert Decimal(issued.json()["tax_total"]) == Decimal("30.00")


async def test_class_default_is_inherited_from_the_nearest_ancestor(session: AsyncSession, deal: Deal) -> None:
    operator = await _operator(session)
    await as_owner(session)
    await tax_rates.set_class_rate(session, actor=owner_actor(operator), class_code="10", tax_rate_code="13")
    await tax_rates.set_class_rate(session, actor=owner_actor(operator), class_code="1001", tax_rate_code="9")
    assert await tax_rates.class_default(session, class_code="100101") == "9"
    assert await tax_rates.class_default(session, class_code="10") == "13"
    assert await tax_rates.fraction_on(session, code="13", on=dt.date(2026, 1, 1)) == Decimal("0.13")


async def test_the_operator_manages_rates_on_the_page(client: AsyncClient, session: AsyncSession,
                                                      deal: Deal) -> None:
    # given the platform operator signed in
    operator = await _operator(session)
    csrf = await sign_in(client, operator.user.email)
    # when a rate and a class default are added through the forms, and a bad rate is tried
    added = await client.post("/settlement/tax-rates", data={
        "csrf_token": csrf, "code": "5", "rate_pct": "5", "name_zh": "5% 征收率", "name_en": "5% simplified",
        "valid_from": "2026-01-01"})
    mapped = await client.post("/settlement/tax-rates/classes", data={"csrf_token": csrf, "class_code": "1001",
                                                                      "tax_rate_code": "9"})
    bad = await client.post("/settlement/tax-rates", data={
        "csrf_token": csrf, "code": "X!", "rate_pct": "150", "name_zh": "x", "name_en": "x",
        "valid_from": "2026-01-01"})
    page = await client.get("/settlement/tax-rates")
    # then both are listed; the bad one is shown again with the reason and stores nothing
    assert (added.status_code, mapped.status_code, bad.status_code) == (303, 303, 422)
    assert 'role="alert"' in bad.text
    assert "<code>5</code>" in page.text and "5% 征收率" in page.text  # the Chinese name on a Chinese page
    assert "<td>1001</td>" in page.text
    assert [row.code for row in await tax_rates.list_rates(session)].count("5") == 1
    # and a supplier may read the page but not change the table
    client.cookies.clear()
    await as_owner(session)
    clerk = await make_member(session, org=deal.world.orders.supplier.org, roles=(Role.FINANCE,))
    clerk_csrf = await sign_in(client, clerk.user.email)
    assert (await client.get("/settlement/tax-rates")).status_code == 200
    refused = await client.post("/settlement/tax-rates/classes", data={"csrf_token": clerk_csrf,
                                                                       "class_code": "1001", "tax_rate_code": "13"})
    assert refused.status_code == 403
