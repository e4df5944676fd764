"""A settlement world per test: buyer, supplier, their warehouses and a confirmed order of 10 boxes."""

from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.orders.models import OrderLine, PurchaseOrder
from tests.settlement_factories import LogisticsWorld, make_logistics_world, settlement_order


@dataclass(frozen=True)
class Deal:
    world: LogisticsWorld
    order: PurchaseOrder
    line: OrderLine


@pytest.fixture
async def deal(session: AsyncSession) -> Deal:
    world = await make_logistics_world(session)
    order, line = await settlement_order(session, world)
    return Deal(world, order, line)
