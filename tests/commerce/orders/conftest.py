"""An order world per test: buyer with approvers, supplier, another supplier, a site and an offered bolt."""

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.orders_factories import OrderWorld, make_world


@pytest.fixture
async def world(session: AsyncSession) -> OrderWorld:
    return await make_world(session)
