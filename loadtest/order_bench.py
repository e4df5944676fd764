"""Order placement benchmark: carts of N lines checked out and submitted over HTTP, with a pgbench reference.

    python -m loadtest.order_bench [--seconds 20] [--clients 8] [--lines 10]

Loads the demo world into a scratch database (``tradeloom seed-demo``), serves the app with uvicorn (one
process) on a free local port, and has ``--clients`` concurrent HTTP clients place orders through
``POST /api/v1/orders/from-cart`` (engine prices, evidence entry, outbox, audit, submit) for ``--seconds``,
each with its own Idempotency-Key. Afterwards it checks that every acknowledged order exists exactly once.
This is a first figure for the trading core; the full load-test harness is the load-test issue's.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg

from loadtest.ledger_bench import load_average, machine, percentile, pgbench_tps, server_url, write_section
from loadtest.resolution_bench import serve
from loadtest.scratch import fresh_database
from tradeloom.db import libpq_url
from tradeloom.net import free_port

SECTION = "## Order placement"
BUYER, SUPPLIER_KEY = "buyer@ecm.demo", "nbpf"


def seed(database_url: str) -> None:
    env = os.environ | {"TRADELOOM_DATABASE_URL": database_url, "TRADELOOM_REDIS_URL": "redis://127.0.0.1:6379/9"}
    subprocess.run([sys.executable, "-m", "tradeloom.cli", "seed-demo"], env=env, check=True,
                   capture_output=True)


def cart_parts(database_url: str, lines: int) -> tuple[str, str, list[dict[str, str]]]:
    """(supplier org id, buyer's delivery site id, cart lines) from the seeded world."""
    with psycopg.connect(libpq_url(database_url)) as conn:
        supplier = conn.execute("SELECT o.id FROM organizations o JOIN memberships m ON m.org_id = o.id "
                                "JOIN users u ON u.id = m.user_id WHERE u.email = %s",
                                (f"sales@{SUPPLIER_KEY}.demo",)).fetchone()
        site = conn.execute("SELECT s.id FROM sites s JOIN memberships m ON m.org_id = s.org_id "
                            "JOIN users u ON u.id = m.user_id WHERE u.email = %s LIMIT 1", (BUYER,)).fetchone()
        assert supplier and site
        offers = conn.execute("SELECT m.code, o.order_unit, o.moq FROM supplier_offers o JOIN materials m "
                              "ON m.id = o.material_id WHERE o.org_id = %s AND o.status = 'active' "
                              "AND m.status = 'active' ORDER BY m.code LIMIT %s", (supplier[0], lines)).fetchall()
    return str(supplier[0]), str(site[0]), [
        {"material_code": code, "quantity": str(moq), "unit": unit} for code, unit, moq in offers]


async def place_for(base: str, token: str, body: dict[str, object], seconds: float,
                    clients: int) -> tuple[list[float], list[str]]:
    """Latencies (ms) and ids of the orders the clients placed in ``seconds``; any failure stops the run."""
    latencies: list[float] = []
    order_ids: list[str] = []
    stop_at = time.monotonic() + seconds

    async def client(http: httpx.AsyncClient) -> None:
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            response = await http.post("/api/v1/orders/from-cart", json=body,
                                       headers={"Idempotency-Key": f"bench-{uuid.uuid4()}"})
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 201:
                raise RuntimeError(f"order failed: {response.status_code} {response.text[:300]}")
            order_ids.append(response.json()["id"])

    async with httpx.AsyncClient(base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    return latencies, order_ids


def token(base: str) -> str:
    answer = httpx.post(f"{base}/api/v1/auth/token", json={"email": BUYER, "password": "Tradeloom-demo-2026"})
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def orders_stored(database_url: str, order_ids: list[str]) -> int:
    with psycopg.connect(libpq_url(database_url)) as conn:
        row = conn.execute("SELECT count(*) FROM purchase_orders WHERE id = ANY(%s::uuid[])", (order_ids,)).fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--lines", type=int, default=10)
    args = parser.parse_args()
    load_before = load_average()
    database_url = fresh_database("tl_order_bench")
    seed(database_url)
    supplier, site, lines = cart_parts(database_url, args.lines)
    body = {"supplier_org_id": supplier, "delivery_site_id": site, "submit": True, "lines": lines}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = serve(database_url, port)
    try:
        bearer = token(base)
        asyncio.run(place_for(base, bearer, body, 3, args.clients))  # warm-up
        latencies, order_ids = asyncio.run(place_for(base, bearer, body, args.seconds, args.clients))
    finally:
        server.terminate()
        server.wait(timeout=10)
    stored = orders_stored(database_url, order_ids)
    reference = pgbench_tps(server_url())
    rate = len(order_ids) / args.seconds
    section = "\n".join([
        SECTION, "",
        f"Command: `python -m loadtest.order_bench --seconds {args.seconds:g} --clients {args.clients} "
        f"--lines {len(lines)}`",
        f"Date: {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC. Machine: {machine()}; "
        f"load average before: {load_before}.",
        "Path: HTTP `POST /api/v1/orders/from-cart` (submit) → app (uvicorn, 1 process, same host): auth, "
        "idempotency record, engine price per line, order + lines, approval routing, outbox, audit, evidence "
        "entry, commit. Load generator: Python httpx on the same 2 cores. First figure for the trading core; "
        "the load-test issue builds the full harness.",
        "", "| measure | result |", "|---|---:|",
        f"| orders per second ({args.clients} clients, {len(lines)} lines each) | {rate:,.1f} |",
        f"| latency p50 / p95 / p99 | {percentile(latencies, 0.5):.0f} / {percentile(latencies, 0.95):.0f} / "
        f"{percentile(latencies, 0.99):.0f} ms |",
        f"| acknowledged orders stored exactly once | {stored:,} of {len(order_ids):,} |",
        f"| pgbench TPC-B-like, 8 clients, 20 s (same server, same run) | {reference:,.0f} tps |",
        f"| ratio: orders/s ÷ pgbench tps | {rate / reference:.3f} |", "",
    ])
    write_section(Path("BENCHMARKS.md"), section, SECTION)
    print(section)


if __name__ == "__main__":
    main()
