"""Health, readiness, metrics, request ids, and models matching migrations."""

import json
import logging
import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from httpx import AsyncClient
from redis.asyncio import Redis as AsyncRedis
from sqlalchemy import create_engine

from migrations.models import target_metadata
from tradeloom.db import driver_url
from tradeloom.observability import JsonFormatter


async def test_healthz_answers_without_dependencies(client: AsyncClient) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_is_ready_when_database_and_redis_answer(client: AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}


async def test_readyz_is_503_when_redis_is_down(client: AsyncClient) -> None:
    client._transport.app.state.redis = AsyncRedis.from_url(  # type: ignore[attr-defined]
        "redis://127.0.0.1:1/0", socket_connect_timeout=0.2
    )
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["checks"]["database"] == "ok"
    assert response.json()["checks"]["redis"].startswith("error: ")


async def test_every_response_carries_a_request_id(client: AsyncClient) -> None:
    generated = await client.get("/healthz")
    kept = await client.get("/healthz", headers={"X-Request-ID": "erp-42.abc"})
    unsafe = await client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})
    assert re.fullmatch(r"[0-9a-f]{16}", generated.headers["x-request-id"])
    assert kept.headers["x-request-id"] == "erp-42.abc"
    assert unsafe.headers["x-request-id"] != "bad id\nwith newline"


async def test_metrics_count_requests_by_route(client: AsyncClient) -> None:
    await client.get("/healthz")
    metrics = (await client.get("/metrics")).text
    assert re.search(r'tradeloom_http_requests_total\{method="GET",route="/healthz",status="200"\} \d', metrics)


def test_models_and_migrations_agree(database_url: str) -> None:
    engine = create_engine(driver_url(database_url))
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), target_metadata)
    engine.dispose()
    assert differences == []


async def test_openapi_documents_the_api(client: AsyncClient) -> None:
    spec = (await client.get("/api/openapi.json")).json()
    assert "/api/v1/sites/{site_id}" in spec["paths"]
    assert spec["paths"]["/api/v1/sites"]["post"]["description"] == "Register a site of your organization."


async def test_every_request_is_logged_as_json_with_its_request_id(client: AsyncClient,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tradeloom.access")
    await client.get("/healthz", headers={"X-Request-ID": "trace-me-1"})
    (record,) = [r for r in caplog.records if r.name == "tradeloom.access"]
    line = json.loads(JsonFormatter().format(record))
    assert (line["msg"], line["request_id"], line["path"], line["status"]) == ("request", "trace-me-1", "/healthz", 200)


async def test_every_api_operation_has_its_own_operation_id(client: AsyncClient) -> None:
    # ERP teams generate clients from the document: a repeated operationId breaks their generators
    document = (await client.get("/api/openapi.json")).json()
    ids = [operation["operationId"] for path in document["paths"].values() for operation in path.values()]
    assert len(ids) == len(set(ids)) > 200
