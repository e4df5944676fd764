"""Identifier resolution benchmark: Handle lookups per second over HTTP, with pgbench as the same-run reference.

    python -m loadtest.resolution_bench [--identifiers 10000] [--seconds 15] [--clients 16]

Fills a scratch database with published identifiers, serves the app with uvicorn (one process) on a free
local port, resolves random handles from ``--clients`` concurrent HTTP clients for ``--seconds``, then runs
pgbench (TPC-B-like, 8 clients, 20 s) and writes the "Identifier resolution" section of BENCHMARKS.md.
"""

import argparse
import asyncio
import datetime as dt
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg
from psycopg.types.json import Jsonb

from loadtest.ledger_bench import load_average, machine, percentile, pgbench_tps, server_url, write_section
from loadtest.scratch import fresh_database
from tradeloom.db import libpq_url
from tradeloom.identity.uscc import check_character
from tradeloom.net import free_port

SECTION = "## Identifier resolution"
PREFIX = "88.118.8866"


def fill(database_url: str, count: int) -> list[str]:
    """One manufacturer and ``count`` published identifiers; returns their suffixes."""
    org_id = uuid.uuid4()
    first17 = "91310000MA1FL0000"
    with psycopg.connect(libpq_url(database_url)) as conn, conn.cursor() as cursor:
        cursor.execute("INSERT INTO organizations (id, name_zh, name_en, kind, uscc, is_active, version) "
                       "VALUES (%s, '基准制造', 'Bench Manufacturing', 'supplier', %s, true, 1)",
                       (org_id, first17 + check_character(first17)))
        suffixes = [f"BENCH-{n:07d}" for n in range(count)]
        with cursor.copy("COPY identifiers (id, org_id, handle, suffix, handle_values, published, version, created_at)"
                         " FROM STDIN") as copy:
            for suffix in suffixes:
                values = [{"index": 1, "type": "URL", "data": {"format": "string", "value": f"/t/{PREFIX}/{suffix}"}},
                          {"index": 2, "type": "PRODUCT_NAME", "data": {"format": "string", "value": "法兰盘 DN50"}}]
                copy.write_row((uuid.uuid4(), org_id, f"{PREFIX}/{suffix}", suffix, Jsonb(values), True, 1,
                                dt.datetime.now(dt.UTC)))
        conn.execute("ANALYZE identifiers")
    return suffixes


def serve(database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = os.environ | {"TRADELOOM_DATABASE_URL": database_url, "TRADELOOM_REDIS_URL": "redis://127.0.0.1:6379/9",
                        "TRADELOOM_HANDLE_PREFIX": PREFIX, "TRADELOOM_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "tradeloom.app:create_app", "--factory",  # noqa: S603
                               "--port", str(port), "--log-level", "warning", "--no-access-log"], env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the app did not start")


async def resolve_for(base: str, suffixes: list[str], seconds: float, clients: int) -> list[float]:
    """Latencies (ms) of every lookup the clients made in ``seconds``; every answer must be a success."""
    latencies: list[float] = []
    stop_at = time.monotonic() + seconds

    async def client(http: httpx.AsyncClient) -> None:
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            response = await http.get(f"/api/handles/{PREFIX}/{random.choice(suffixes)}")  # noqa: S311
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200 or response.json()["responseCode"] != 1:
                raise RuntimeError(f"lookup failed: {response.status_code} {response.text[:200]}")

    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identifiers", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    load_before = load_average()
    database_url = fresh_database("tl_resolution_bench")
    suffixes = fill(database_url, args.identifiers)
    port = free_port()
    server = serve(database_url, port)
    try:
        asyncio.run(resolve_for(f"http://127.0.0.1:{port}", suffixes, 2, args.clients))  # warm-up
        latencies = asyncio.run(resolve_for(f"http://127.0.0.1:{port}", suffixes, args.seconds, args.clients))
    finally:
        server.terminate()
        server.wait(timeout=10)
    reference = pgbench_tps(server_url())
    rate = len(latencies) / args.seconds
    section = "\n".join([
        SECTION, "",
        f"Command: `python -m loadtest.resolution_bench --identifiers {args.identifiers} --seconds {args.seconds:g} "
        f"--clients {args.clients}`",
        f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC. Machine: {machine()}; "
        f"load average before: {load_before}.",
        "Path: HTTP `GET /api/handles/{prefix}/{suffix}` → app (uvicorn, 1 process, same host) → "
        "`tl_public_identifier` (SECURITY DEFINER) in PostgreSQL; the load generator runs on the same 2 cores.",
        "", "| measure | result |", "|---|---:|",
        f"| lookups per second ({args.clients} concurrent clients, {args.identifiers:,} published identifiers) "
        f"| {rate:,.0f} |",
        f"| latency p50 / p95 / p99 | {percentile(latencies, 0.5):.1f} / {percentile(latencies, 0.95):.1f} / "
        f"{percentile(latencies, 0.99):.1f} ms |",
        f"| errors | 0 of {len(latencies):,} |",
        f"| pgbench TPC-B-like, 8 clients, 20 s (same server, same run) | {reference:,.0f} tps |",
        f"| ratio: lookups/s ÷ pgbench tps | {rate / reference:.2f} |", "",
    ])
    write_section(Path("BENCHMARKS.md"), section, SECTION)
    print(section)


if __name__ == "__main__":
    main()
