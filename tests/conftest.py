"""Test fixtures: real PostgreSQL and Redis, a migrated template database copied per xdist worker.

Servers: ``TRADELOOM_TEST_DATABASE_URL`` / ``TRADELOOM_TEST_REDIS_URL`` / ``TRADELOOM_TEST_MQTT_URL`` when set
(CI points them at the machine's servers), otherwise an embedded PostgreSQL, Redis and MQTT broker (amqtt)
started once for the run. The template is
built by the migrations (named after a hash of them, so a changed migration rebuilds it); each worker gets
``CREATE DATABASE … TEMPLATE``. Most tests run inside one transaction that is rolled back.
"""

import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import redis
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis as AsyncRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from migrations.models import target_metadata
from tests.factories import TEST_SECRET
from tradeloom import migrate
from tradeloom.app import create_app
from tradeloom.db import libpq_url, make_engine, with_database
from tradeloom.embedded import EmbeddedServices, start_postgres, start_redis
from tradeloom.net import free_port
from tradeloom.settings import PROJECT_ROOT, Settings, get_settings

# One secrets key for the whole run (tests only, never a deployment's): the app's settings and the
# process settings (jobs, connector calls) seal and open connector credentials alike.
os.environ.setdefault("TRADELOOM_SECRETS_KEY", "test1:" + "dGVzdC1vbmx5LXNlY3JldHMta2V5LTMyLWJ5dGVzISE=")

TEMPLATE_ENV = "TRADELOOM_TEST_TEMPLATE_DB"
MQTT_ENV = "TRADELOOM_TEST_MQTT_URL"
# Set to "amqtt" when no broker was configured and the run started the embedded one (tests that need what
# amqtt does not implement say so and are skipped).
EMBEDDED_MQTT_ENV = "TRADELOOM_TEST_MQTT_EMBEDDED"
BROKER_LIMIT_S = 30  # start/stop failure bound only
_embedded = EmbeddedServices()
_embedded_broker: subprocess.Popen[bytes] | None = None


def _server_urls() -> tuple[str, str]:
    settings = get_settings()
    database_url, redis_url = settings.test_database_url, settings.test_redis_url
    if database_url and redis_url:
        return database_url, redis_url
    data_dir = Path(tempfile.mkdtemp(prefix="tradeloom-test-"))
    if not database_url:
        database_url = start_postgres(data_dir, _embedded, database="postgres")
    if not redis_url:
        redis_url = start_redis(data_dir, _embedded)
    return database_url, redis_url


def _mqtt_url() -> str:
    """The configured test broker, or an embedded amqtt broker on a free loopback port for this run."""
    global _embedded_broker
    configured = get_settings().test_mqtt_url
    if configured:
        return configured
    port = free_port()
    os.environ[EMBEDDED_MQTT_ENV] = "amqtt"
    _embedded_broker = start_embedded_broker(port)
    return f"mqtt://127.0.0.1:{port}"


def start_embedded_broker(port: int) -> subprocess.Popen[bytes]:
    """The embedded (amqtt) broker in a process of its own, accepting connections on ``port``."""
    broker = subprocess.Popen([sys.executable, "-m", "iot_bridge.embedded_broker", "--port", str(port)])
    deadline = time.monotonic() + BROKER_LIMIT_S
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return broker
        except OSError:
            if broker.poll() is not None or time.monotonic() > deadline:
                broker.kill()
                raise RuntimeError("the embedded MQTT broker did not start") from None
            time.sleep(0.05)


def _migrations_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted((PROJECT_ROOT / "migrations").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _build_template(server_url: str) -> str:
    name = f"tl_template_{_migrations_hash()}"
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(727001)")
        try:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}_wip"')  # left by an interrupted run
                conn.execute(f'CREATE DATABASE "{name}_wip"')
                migrate.upgrade(with_database(server_url, f"{name}_wip"))
                conn.execute(f'ALTER DATABASE "{name}_wip" RENAME TO "{name}"')
        finally:
            conn.execute("SELECT pg_advisory_unlock(727001)")
    return name


def pytest_configure(config: pytest.Config) -> None:
    """Once per run (in the xdist controller, or the single process): servers and the template."""
    if hasattr(config, "workerinput") or os.environ.get(TEMPLATE_ENV):
        return
    database_url, redis_url = _server_urls()
    os.environ["TRADELOOM_TEST_DATABASE_URL"] = database_url
    os.environ["TRADELOOM_TEST_REDIS_URL"] = redis_url
    os.environ[MQTT_ENV] = _mqtt_url()
    os.environ[TEMPLATE_ENV] = _build_template(database_url)
    get_settings.cache_clear()


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):
        _embedded.stop()
        if _embedded_broker is not None:
            _embedded_broker.terminate()
            try:
                _embedded_broker.wait(BROKER_LIMIT_S)
            except subprocess.TimeoutExpired:
                _embedded_broker.kill()


def _worker_index(worker_id: str) -> int:
    return 0 if worker_id == "master" else int(worker_id.removeprefix("gw")) + 1


@pytest.fixture(scope="session")
def database_url(worker_id: str) -> Iterator[str]:
    """A database of this worker's own, copied from the migrated template."""
    server_url = os.environ["TRADELOOM_TEST_DATABASE_URL"]
    name = f"tl_test_{worker_id}_{os.getpid()}"
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{os.environ[TEMPLATE_ENV]}"')
    yield with_database(server_url, name)
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_url(worker_id: str) -> str:
    """This worker's own Redis database number on the test server."""
    parts = urlsplit(os.environ["TRADELOOM_TEST_REDIS_URL"])
    db = 1 + _worker_index(worker_id) % 15
    if parts.scheme == "unix":
        return f"unix://{parts.path}?db={db}"
    return parts._replace(path=f"/{db}").geturl()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture(scope="session")
def test_settings(database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=database_url, redis_url=redis_url, environment="test", secret_key=TEST_SECRET,
        data_dir=tmp_path_factory.mktemp("data"),
    )


@pytest.fixture(scope="session")
async def engine(test_settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(str(test_settings.database_url), pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside an outer transaction that is rolled back after the test."""
    async with engine.connect() as conn:
        outer = await conn.begin()
        yield conn
        if outer.is_active:
            await outer.rollback()


@pytest.fixture
def sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions on the test's connection; their commits become savepoints of the outer transaction."""
    return async_sessionmaker(bind=connection, expire_on_commit=False, autoflush=False,
                              join_transaction_mode="create_savepoint")


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session as the database owner (no RLS); use ``apply_tenant`` to act as the app role."""
    async with sessionmaker() as session:
        yield session


def _wire_app(test_settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], engine: AsyncEngine,
              redis_url: str) -> FastAPI:
    """The app with the test's database handles (httpx's ASGI transport does not run the lifespan)."""
    app = create_app(test_settings)
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker
    app.state.redis = AsyncRedis.from_url(redis_url)
    return app


@pytest.fixture
async def client(test_settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], engine: AsyncEngine,
                 redis_url: str, redis_client: redis.Redis) -> AsyncIterator[AsyncClient]:
    """The API over ASGI, inside the test's rolled-back transaction (this worker's Redis database emptied)."""
    app = _wire_app(test_settings, sessionmaker, engine, redis_url)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def committed_client(test_settings: Settings, engine: AsyncEngine, redis_url: str,
                           redis_client: redis.Redis) -> AsyncIterator[AsyncClient]:
    """The API with real commits, for concurrency tests; every table is emptied afterwards."""
    app = _wire_app(test_settings, async_sessionmaker(engine, expire_on_commit=False), engine, redis_url)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
        yield http
    await truncate_all(engine)


# Reference data the migrations load (the class tree, exchange rates): later tests in the worker need it.
MIGRATION_DATA_TABLES = frozenset({"material_classes", "fx_rates", "tax_rates"})


async def truncate_all(engine: AsyncEngine) -> None:
    """Empty every table a test could have filled, keeping the migrations' reference data."""
    tables = ", ".join(f'"{table.name}"' for table in target_metadata.sorted_tables
                       if table.name not in MIGRATION_DATA_TABLES)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await conn.execute(text("UPDATE material_classes SET next_sequence = 1"))

