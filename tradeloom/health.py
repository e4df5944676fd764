"""``/healthz`` (the process answers) and ``/readyz`` (PostgreSQL and Redis answer, else 503)."""

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(tags=["operations"])
CHECK_TIMEOUT_SECONDS = 2.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Readiness: 200 when the database and Redis both answer within two seconds, 503 otherwise."""
    checks = {
        "database": await _check(_ping_database(request)),
        "redis": await _check(request.app.state.redis.ping()),
    }
    ready = all(result == "ok" for result in checks.values())
    body: dict[str, object] = {"status": "ready" if ready else "unavailable", "checks": checks}
    if not ready:
        body |= {"type": "https://tradeloom.dev/problems/not_ready", "title": "Not ready", "status": 503,
                 "code": "not_ready", "detail": "A dependency is not answering."}
    return JSONResponse(body, status_code=200 if ready else 503,
                        media_type="application/json" if ready else "application/problem+json")


async def _ping_database(request: Request) -> None:
    async with request.app.state.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _check(probe: object) -> str:
    try:
        await asyncio.wait_for(probe, CHECK_TIMEOUT_SECONDS)  # type: ignore[arg-type]
        return "ok"
    except Exception as exc:  # any failure means "not ready", with its reason
        return f"error: {type(exc).__name__}: {exc}"[:200]
