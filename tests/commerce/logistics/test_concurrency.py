"""Reservations with real commits: twelve confirmed orders race for the last five pieces, five are held."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from commerce.logistics.models import StockBalance, StockReservation
from tests.logistics_factories import LogisticsWorld, confirmed_order, make_logistics_world, stock_up
from tests.orders_factories import award_line
from tradeloom.db import make_sessionmaker

ORDERS = 12


@dataclass(frozen=True)
class Race:
    world: LogisticsWorld
    order_ids: list[str]


@pytest.fixture
async def race(engine: AsyncEngine, committed_client: AsyncClient) -> AsyncIterator[Race]:
    """Five bolts on the shelf and twelve confirmed orders of one bolt each, committed for real."""
    async with make_sessionmaker(engine)() as session, session.begin():
        world = await make_logistics_world(session)
        await stock_up(session, world, quantity="5")
        orders = [await confirmed_order(session, world, award_line(world.orders, "1", "0.42", unit="H87"))
                  for _ in range(ORDERS)]
    yield Race(world, [str(order.id) for order in orders])


async def test_concurrent_reservations_never_hold_more_than_is_on_hand(
    committed_client: AsyncClient, race: Race, engine: AsyncEngine
) -> None:
    # when twelve reservations of one piece each race for five pieces
    body = {"warehouse_id": str(race.world.supplier_store.warehouse_id)}
    answers = await asyncio.gather(*(
        committed_client.post(f"/api/v1/logistics/orders/{order_id}/reservations", json=body,
                              headers=race.world.orders.supplier.headers) for order_id in race.order_ids))
    # then every order got an answer, exactly five hold a piece and seven are backordered
    assert {answer.status_code for answer in answers} == {201}, [a.text for a in answers if a.status_code != 201]
    held = sorted((line["quantity"], line["backordered"]) for answer in answers for line in answer.json())
    assert held == [("0", "1")] * 7 + [("1", "0")] * 5
    async with make_sessionmaker(engine)() as session:
        balance = (await session.scalars(select(StockBalance))).one()
        reserved = sum((r.quantity for r in await session.scalars(select(StockReservation))), Decimal(0))
    assert (balance.on_hand, balance.reserved, reserved) == (Decimal(5), Decimal(5), Decimal(5))
