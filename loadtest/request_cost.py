"""CPU per request of the app itself, without a server or other load: which requests cost what.

    python -m loadtest.request_cost [--requests 200] [--only "POST /api/v1/orders"]

Uses ``tl_bench`` (built by ``loadtest.bench``). The app is made with ``create_app()`` and its lifespan and
called through httpx's ASGI transport, one request after another; CPU is this thread's (``time.thread_time``)
over ``--requests`` requests after a warm-up, so the machine's other load hardly moves it. The httpx client's
own share (~1 ms) is included; the loop is asyncio's, not uvloop.
"""

import argparse
import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import psycopg

from loadtest import bench, bench_world
from loadtest.scratch import database_url
from tradeloom.db import libpq_url

Call = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


def _world(url: str) -> dict[str, Any]:
    """A buyer's site, the supplier, a handle and ten of the supplier's active offers (code, unit, MOQ)."""
    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute(
            "SELECT m.org_id, (SELECT min(s.id::text) FROM sites s JOIN memberships b ON b.org_id = s.org_id "
            "JOIN users u ON u.id = b.user_id WHERE u.email = %s) FROM memberships m JOIN users u "
            "ON u.id = m.user_id WHERE u.email = %s", (bench_world.BUYERS[0], bench_world.SUPPLIER_SALES)).fetchone()
        assert row, "build tl_bench first: python -m loadtest.bench"
        offers = conn.execute(
            "SELECT m.id, m.code, o.order_unit, o.moq FROM supplier_offers o JOIN materials m ON m.id = o.material_id "
            "WHERE o.org_id = %s AND o.status = 'active' AND m.status = 'active' ORDER BY m.code LIMIT 10",
            (row[0],)).fetchall()
        handle = conn.execute("SELECT handle FROM identifiers WHERE published LIMIT 1").fetchone()
    assert offers and handle, "tl_bench has no offers or published identifiers"
    material_id, _, unit, moq = offers[0]
    return {"supplier": str(row[0]), "site": row[1], "handle": handle[0], "material_id": str(material_id),
            "unit": unit, "moq": str(moq),
            "cart": [{"material_code": code, "quantity": str(q), "unit": u} for _, code, u, q in offers]}


def _requests(world: dict[str, Any], token: str) -> dict[str, Call]:
    signed = {"Authorization": f"Bearer {token}"}
    order = {"supplier_org_id": world["supplier"], "delivery_site_id": world["site"], "submit": True,
             "lines": world["cart"]}
    price = {"material_id": world["material_id"], "quantity": world["moq"], "unit": world["unit"]}
    return {
        "POST /api/v1/orders/from-cart (10 lines, submit)": lambda http: http.post(
            "/api/v1/orders/from-cart", json=order, headers=signed | {"Idempotency-Key": str(uuid.uuid4())}),
        "GET /api/v1/catalog/search?q=螺栓": lambda http: http.get(
            "/api/v1/catalog/search", params={"q": "螺栓"}, headers=signed),
        "GET /api/v1/catalog/price": lambda http: http.get("/api/v1/catalog/price", params=price, headers=signed),
        "GET /api/v1/orders": lambda http: http.get("/api/v1/orders", headers=signed),
        "GET /api/handles/{handle}": lambda http: http.get(f"/api/handles/{world['handle']}"),
        "GET /healthz": lambda http: http.get("/healthz"),
    }


async def _measure(requests: int, only: str) -> None:
    from tradeloom.app import create_app  # after the environment is set: settings are read at import

    app = create_app()
    world = _world(database_url(bench.DATABASE))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
        answer = await http.post("/api/v1/auth/token", json={"email": bench_world.BUYERS[0],
                                                             "password": bench_world.DEMO_PASSWORD})
        for name, call in _requests(world, answer.json()["access_token"]).items():
            if not name.startswith(only):
                continue
            for _ in range(20):
                response = await call(http)
                assert response.status_code < 300, f"{name}: {response.status_code} {response.text[:300]}"
            started = time.thread_time()
            for _ in range(requests):
                await call(http)
            print(f"| {name} | {1000 * (time.thread_time() - started) / requests:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--only", default="", help="measure only the requests whose name starts with this")
    args = parser.parse_args()
    os.environ.update(bench.production_settings(database_url(bench.DATABASE)))
    print("| request | CPU ms per request |\n|---|---:|")
    asyncio.run(_measure(args.requests, args.only))


if __name__ == "__main__":
    main()
