"""Card-payment fixtures: the local Stripe stand-in and the app configured to use it."""

from collections.abc import AsyncIterator, Iterator

import pytest
import redis
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from commerce.settlement.stripe.local_server import LocalStripeServer
from tests.conftest import _wire_app, truncate_all
from tests.stripe_support import STRIPE_KEY, WEBHOOK_SECRET
from tradeloom.settings import Settings


@pytest.fixture(scope="session")
def local_stripe() -> Iterator[LocalStripeServer]:
    with LocalStripeServer(api_key=STRIPE_KEY) as server:
        yield server


@pytest.fixture(scope="session")
def stripe_settings(test_settings: Settings, local_stripe: LocalStripeServer) -> Settings:
    return test_settings.model_copy(update={
        "stripe_api_base": local_stripe.api_base, "stripe_secret_key": SecretStr(STRIPE_KEY),
        "stripe_webhook_secret": SecretStr(WEBHOOK_SECRET)})


@pytest.fixture
async def stripe_client(stripe_settings: Settings, sessionmaker: async_sessionmaker[AsyncSession],
                        engine: AsyncEngine, redis_url: str, redis_client: redis.Redis) -> AsyncIterator[AsyncClient]:
    """The API over ASGI with card payments on, inside the test's rolled-back transaction."""
    app = _wire_app(stripe_settings, sessionmaker, engine, redis_url)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
        yield http



@pytest.fixture
async def committed_stripe_client(stripe_settings: Settings, engine: AsyncEngine, redis_url: str,
                                  redis_client: redis.Redis) -> AsyncIterator[AsyncClient]:
    """Card payments on, with real commits (for concurrency tests); every table is emptied afterwards."""
    app = _wire_app(stripe_settings, async_sessionmaker(engine, expire_on_commit=False), engine, redis_url)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
        yield http
    await truncate_all(engine)
