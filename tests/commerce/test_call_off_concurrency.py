"""Concurrent call-offs with real commits never overshoot a cap: 20 race for the last 10 pieces, 10 win."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from commerce.contracts.models import CallOff, ContractItem
from tests.commerce_factories import Market, framework_body, make_market
from tradeloom.db import make_sessionmaker


@pytest.fixture
async def market(engine: AsyncEngine, committed_client: AsyncClient) -> AsyncIterator[Market]:
    """Committed for real (committed_client truncates every table afterwards)."""
    async with make_sessionmaker(engine)() as session, session.begin():
        made = await make_market(session)
    yield made


async def test_twenty_concurrent_call_offs_for_the_last_ten_pieces(
    committed_client: AsyncClient, market: Market, engine: AsyncEngine
) -> None:
    # given an effective framework capped at 10,000 pieces, 9,990 of them drawn already
    client, buyer, supplier = committed_client, market.buyer, market.suppliers[0]
    contract = (await client.post("/api/v1/contracts", json=framework_body(market, value_cap=None),
                                  headers=buyer.headers)).json()
    for signer in (buyer, supplier):
        etag = (await client.get(f"/api/v1/contracts/{contract['id']}", headers=signer.headers)).headers["etag"]
        signed = await client.post(f"/api/v1/contracts/{contract['id']}/signatures", json={},
                                   headers=signer.headers | {"If-Match": etag})
        assert signed.status_code == 201, signed.text
    url = f"/api/v1/contracts/{contract['id']}/call-offs"

    def order(quantity: str) -> dict[str, object]:
        return {"delivery_site_id": str(market.plant_id),
                "lines": [{"material_id": str(market.bolt.id), "quantity": quantity}]}

    assert (await client.post(url, json=order("9990"), headers=buyer.headers)).status_code == 201
    # when 20 call-offs of one piece each race
    answers = await asyncio.gather(*(client.post(url, json=order("1"), headers=buyer.headers) for _ in range(20)))
    # then exactly 10 succeed, the others are refused at the cap, and the books agree
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [201] * 10 + [409] * 10
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"call_off_over_cap"}
    async with make_sessionmaker(engine)() as session:
        item = (await session.scalars(select(ContractItem))).one()
        placed = (await session.scalars(select(CallOff))).all()
    assert (item.quantity_drawn, len(placed)) == (10000, 11)
