"""Real commits, real races: the same bank statement imported twice at once pays the invoice once, and two
buyers resolving the same exception at once — one wins, the other gets 412."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from commerce.settlement.invoice_models import Invoice
from tests.factories import Member, make_member
from tests.materials_factories import as_owner
from tests.settlement_factories import invoice, make_logistics_world, receive, settlement_order
from tradeloom.db import make_sessionmaker
from tradeloom.identity.roles import Role

URL = "/api/v1/settlement"


@dataclass(frozen=True)
class Committed:
    invoice: Invoice
    supplier_finance: Member
    buyer_finance: Member


@pytest.fixture
async def committed(engine: AsyncEngine, committed_client: AsyncClient) -> AsyncIterator[Committed]:
    """An invoice of 4 boxes with 3 received (a match exception), committed (committed_client truncates after)."""
    async with make_sessionmaker(engine)() as session, session.begin():
        world = await make_logistics_world(session)
        order, line = await settlement_order(session, world)
        await receive(session, world, order, line, "3")
        issued = await invoice(session, world, order, line, quantity="4")
        await as_owner(session)
        supplier_finance = await make_member(session, org=world.orders.supplier.org, roles=(Role.FINANCE,))
        buyer_finance = await make_member(session, org=world.orders.buyer.org, roles=(Role.FINANCE,))
    yield Committed(issued, supplier_finance, buyer_finance)


async def test_one_statement_imported_twice_at_once_pays_once(committed_client: AsyncClient,
                                                              committed: Committed) -> None:
    csv = ("bank_ref,booking_date,amount,currency,remittance,payer_name\n"
           f"B-77,2026-11-24,452.00,CNY,{committed.invoice.payment_reference},Buyer\n").encode()

    async def upload() -> dict[str, int]:
        answer = await committed_client.post(f"{URL}/bank-statements", headers=committed.supplier_finance.headers,
                                             files={"file": ("s.csv", csv, "text/csv")})
        return dict(answer.json())

    results = await asyncio.gather(upload(), upload())
    assert sorted(result["matched"] for result in results) == [0, 1]
    assert sorted(result["duplicates"] for result in results) == [0, 1]
    detail = await committed_client.get(f"{URL}/invoices/{committed.invoice.id}",
                                        headers=committed.supplier_finance.headers)
    assert detail.json()["outstanding"] == "0.0000"


async def test_two_resolutions_at_once_one_wins(committed_client: AsyncClient, committed: Committed) -> None:
    url = f"{URL}/invoices/{committed.invoice.id}/lines/1/resolution"
    headers = committed.buyer_finance.headers | {"If-Match": f'"{committed.invoice.version}"'}
    answers = await asyncio.gather(
        committed_client.post(url, json={"resolution": "accept"}, headers=headers),
        committed_client.post(url, json={"resolution": "reject"}, headers=headers))
    assert sorted(answer.status_code for answer in answers) in ([200, 412], [200, 422])
