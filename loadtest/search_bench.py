"""Catalogue search latency over a loaded catalogue, with the same run's pgbench reference.

    python -m loadtest.search_bench --database-url postgresql://postgres@127.0.0.1:5432/tl_search_bench \\
        [--rounds 20] [--write BENCHMARKS.md]

Runs a fixed set of Chinese and English queries (words, synonyms, a typo, a code, a part number, filters,
price sorting) through the PostgreSQL backend exactly as the API does — a transaction in the app role,
exact lookups, text match, facets and one page — and reports p50/p95 per query and overall. Then pgbench
(``loadtest.ledger_bench.pgbench_tps``: TPC-B-like, 8 clients, 20 s) on a scratch database of its own, so
the figures can be compared across machines as a ratio. Load the catalogue first with ``loadtest.catalog_data``.
"""

import argparse
import asyncio
import datetime as dt
import os
import platform
import re
import statistics
import time
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg

from catalog.search.postgres import PostgresSearch
from catalog.search.query import SearchQuery, SortOrder
from loadtest.ledger_bench import pgbench_tps
from tradeloom.db import apply_tenant, libpq_url, make_engine, make_sessionmaker

QUERIES: list[tuple[str, SearchQuery]] = [
    ("zh 螺栓", SearchQuery(text="螺栓")),
    ("zh 不锈钢六角头螺栓 M8", SearchQuery(text="不锈钢六角头螺栓 M8")),
    ("zh 六角螺母 镀锌", SearchQuery(text="六角螺母 镀锌")),
    ("zh 深沟球轴承", SearchQuery(text="深沟球轴承")),
    ("zh 法兰 in stock, by price", SearchQuery(text="法兰", in_stock=True, sort=SortOrder.PRICE)),
    ("en hex bolt", SearchQuery(text="hex bolt")),
    ("en stainless steel nut M10", SearchQuery(text="stainless steel nut M10")),
    ("en ball bearing", SearchQuery(text="ball bearing")),
    ("en bolt, class 100101, 10–100 CNY", SearchQuery(text="bolt", class_code="100101", price_min=Decimal(10),
                                                      price_max=Decimal(100))),
    ("en typo 'stainles bolt' (fuzzy)", SearchQuery(text="stainles bolt")),
    ("code lookup", SearchQuery(text="{code}")),
    ("part number lookup", SearchQuery(text="{part_number}")),
]
SECTION = "## Catalogue search"


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def _identifiers(database_url: str) -> dict[str, str]:
    with psycopg.connect(libpq_url(database_url)) as conn:
        code = conn.execute("SELECT code FROM materials ORDER BY code OFFSET 5000 LIMIT 1").fetchone()
        part = conn.execute("SELECT supplier_part_number FROM supplier_offers ORDER BY id LIMIT 1").fetchone()
    return {"code": code[0] if code else "", "part_number": part[0] if part else ""}


async def measure(database_url: str, rounds: int) -> dict[str, tuple[list[float], int]]:
    """Per query: latencies in ms over ``rounds`` runs (after one warm-up) and the hit total."""
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    sessionmaker = make_sessionmaker(engine)
    identifiers = await _identifiers(database_url)
    found: dict[str, tuple[list[float], int]] = {}
    try:
        for name, query in QUERIES:
            query = SearchQuery(**{**query.__dict__, "text": query.text.format(**identifiers)})
            samples, total = [], 0
            for round_number in range(rounds + 1):
                started = time.perf_counter()
                async with sessionmaker() as session, session.begin():
                    await apply_tenant(session, org_id=uuid.uuid4())
                    total = (await PostgresSearch(session).search(query)).total
                if round_number:
                    samples.append((time.perf_counter() - started) * 1000)
            found[name] = (samples, total)
    finally:
        await engine.dispose()
    return found


def catalogue_facts(database_url: str) -> tuple[int, int, str]:
    """(searchable materials, offers, server version)."""
    with psycopg.connect(libpq_url(database_url)) as conn:
        row = conn.execute("SELECT (SELECT count(*) FROM material_search_facts), "
                           "(SELECT count(*) FROM supplier_offers), current_setting('server_version')").fetchone()
    return (row[0], row[1], row[2]) if row else (0, 0, "?")


def report(found: dict[str, tuple[list[float], int]], tps: float, size: tuple[int, int, str], rounds: int,
           load: float) -> str:
    everything = [sample for samples, _ in found.values() for sample in samples]
    lines = [
        SECTION, "",
        "Command: `python -m loadtest.catalog_data --database-url …` (100,000 materials, 300,000 offers), then "
        f"`python -m loadtest.search_bench --database-url … --rounds {rounds}`.",
        f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC. Machine: {os.cpu_count()} cores, "
        f"1-minute load average {load:.1f} before the run (other work shared the machine), "
        f"{platform.machine()}, Python {platform.python_version()}, PostgreSQL {size[2]} "
        "(same host, TCP). Backend: PostgreSQL (the OpenSearch backend is only tested functionally, against "
        "osmem-server).",
        f"Catalogue: {size[0]:,} searchable materials, {size[1]:,} offers. Each figure is one whole search as the "
        "API runs it (transaction in the app role, exact lookups, text match, facets, first page of 20), "
        "one client, no concurrency.",
        "",
        "| query | hits | p50 ms | p95 ms |",
        "|---|---:|---:|---:|",
    ]
    for name, (samples, total) in found.items():
        lines.append(f"| {name} | {total:,} | {statistics.median(samples):.1f} | {percentile(samples, 0.95):.1f} |")
    lines += [
        f"| **all queries** | | **{statistics.median(everything):.1f}** | **{percentile(everything, 0.95):.1f}** |",
        "",
        f"Same run's reference: pgbench TPC-B-like, scale 10, 8 clients, 20 s: **{tps:,.0f} tps**.",
        "",
    ]
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    """Replace this section in BENCHMARKS.md (or append it), leaving the other sections alone."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    text = pattern.sub(section + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--write", type=Path, help="BENCHMARKS.md to update")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    found = asyncio.run(measure(args.database_url, args.rounds))
    tps = pgbench_tps(libpq_url(args.database_url))
    section = report(found, tps, catalogue_facts(args.database_url), args.rounds, load)
    print(section)
    if args.write:
        write_section(args.write, section)


if __name__ == "__main__":
    main()
