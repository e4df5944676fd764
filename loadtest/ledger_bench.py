"""Evidence ledger benchmark: sequencing throughput, inclusion-proof latency, bundle verification, and pgbench.

    python -m loadtest.ledger_bench [--entries 1000000] [--write BENCHMARKS.md]

It builds scratch databases on the configured PostgreSQL server (``TRADELOOM_TEST_DATABASE_URL``, else
``TRADELOOM_DATABASE_URL``), fills one with real canonical entries, times the sequencer over all of them
(numbering, tree nodes, signed checkpoint per batch, commit), times inclusion proofs through the API's
service function at the full tree size, times offline bundle verification and the audit, and runs pgbench (TPC-B-like,
8 clients, 20 s) on the same server as the reference of what that server does in the same run.
"""

import argparse
import asyncio
import datetime as dt
import os
import platform
import random
import re
import statistics
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import create_engine

from ledger import log_service
from ledger.audit import audit_log
from ledger.canonical import EvidenceEntry
from ledger.checkpoint import NoteSigner, generate_signer_key
from ledger.sequencer import sequence_waiting
from ledger.signing import LogSigner
from ledger.verify import verify_bundle
from tradeloom import migrate
from tradeloom.db import apply_tenant, driver_url, libpq_url, make_engine, make_sessionmaker, with_database
from tradeloom.settings import get_settings

BENCH_DB = "tl_ledger_bench"
PGBENCH_DB = f"tl_pgbench_{os.getpid()}"  # one per process: benches of several checkouts may share a server
SECTION = "## Evidence ledger"
ORIGIN = "bench.tradeloom.example/ledger"


@dataclass(frozen=True)
class Figures:
    entries: int
    batch_size: int
    fill_seconds: float
    sequence_seconds: float
    proof_ms: list[float]
    verify_ms: list[float]
    audit_seconds: float
    pgbench_tps: float

    @property
    def entries_per_second(self) -> float:
        return self.entries / self.sequence_seconds


def server_url() -> str:
    settings = get_settings()
    url = settings.test_database_url or settings.database_url
    if not url:
        raise SystemExit("set TRADELOOM_TEST_DATABASE_URL or TRADELOOM_DATABASE_URL to a PostgreSQL server")
    return libpq_url(url)


@contextmanager
def scratch_database(url: str, name: str) -> Iterator[str]:
    """A fresh database of its own, dropped afterwards."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(url, name)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fill(database_url: str, count: int) -> float:
    """``count`` canonical order entries from 100 organizations, loaded with COPY; returns the seconds taken."""
    started = time.perf_counter()
    orgs = [uuid.uuid4() for _ in range(100)]
    recorded_at = dt.datetime.now(dt.UTC)
    columns = "org_id, kind, subject, entry_data, leaf_hash, recorded_at"
    with (
        psycopg.connect(database_url) as conn,
        conn.cursor() as cursor,
        cursor.copy(f"COPY evidence_entries ({columns}) FROM STDIN") as copy,
    ):
        for number in range(count):
            org = orgs[number % len(orgs)]
            entry = EvidenceEntry(kind="order.placed", subject=f"order:PO-{number}", org=str(org),
                                  recorded_at=recorded_at, payload={"lines": number % 40, "total": "1200.5000"})
            copy.write_row((org, entry.kind, entry.subject, entry.canonical_bytes(), entry.leaf_hash(), recorded_at))
    return time.perf_counter() - started


def sequence_all(database_url: str, signer: LogSigner, batch_size: int) -> float:
    """Seconds the sequencer needs for everything waiting, one signed checkpoint per batch."""
    engine = create_engine(driver_url(database_url))
    try:
        started = time.perf_counter()
        sequence_waiting(engine, signer, batch_size=batch_size)
        return time.perf_counter() - started
    finally:
        engine.dispose()


def vacuum_analyze(database_url: str) -> None:
    """What autovacuum does after a bulk load: planner statistics and a visibility map for the new rows."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def audit_seconds(database_url: str, signer: LogSigner) -> float:
    """Seconds `tradeloom ledger audit` needs for the whole log (it must find nothing wrong)."""
    engine = create_engine(driver_url(database_url))
    try:
        started = time.perf_counter()
        with engine.connect() as conn:
            result = audit_log(conn, signer.verifier_key, origin=signer.origin)
        if not result.ok:
            raise RuntimeError(f"the benchmark log fails its audit: {result.problems[:3]}")
        return time.perf_counter() - started
    finally:
        engine.dispose()


async def time_reads(
    database_url: str, signer: LogSigner, tree_size: int, samples: int
) -> tuple[list[float], list[float]]:
    """Milliseconds per inclusion proof (API service, app role) and per offline bundle verification."""
    engine = make_engine(database_url, pool_size=1)
    proof_ms, verify_ms = [], []
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await apply_tenant(session, org_id=None)
            for leaf_index in random.sample(range(tree_size), samples):
                started = time.perf_counter()
                await log_service.inclusion_proof(session, leaf_index=leaf_index, tree_size=tree_size)
                proof_ms.append((time.perf_counter() - started) * 1000)
            bundle = await log_service.bundle_for_leaf(session, leaf_index=tree_size // 3,
                                                       log_key=signer.verifier_key)
    finally:
        await engine.dispose()
    bundle_json = bundle.to_json()
    pinned_key = str(signer.verifier_key)
    for _ in range(samples):
        started = time.perf_counter()
        verify_bundle(bundle_json, pinned_key=pinned_key)
        verify_ms.append((time.perf_counter() - started) * 1000)
    return proof_ms, verify_ms


def pgbench_tps(url: str) -> float:
    """TPC-B-like, scale 10, 8 clients, 2 threads, 20 s, in a scratch database initialised by ``pgbench -i``
    (on the server of ``url``) — the one way every benchmark here measures its same-run reference."""
    with scratch_database(url, PGBENCH_DB) as pgbench_url:
        subprocess.run(["pgbench", "-i", "-q", "-s", "10", pgbench_url], check=True, capture_output=True)  # noqa: S603,S607
        run = subprocess.run(["pgbench", "-c", "8", "-j", "2", "-T", "20", "-b", "tpcb-like", pgbench_url],  # noqa: S603,S607
                             check=True, capture_output=True, text=True)
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", run.stdout)
    if match is None:
        raise RuntimeError(f"cannot read pgbench's tps from:\n{run.stdout}")
    return float(match.group(1))


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100)[int(share * 100) - 1]


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def server_version() -> str:
    with psycopg.connect(server_url()) as conn:
        return str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]  # type: ignore[index]


def machine() -> str:
    memory_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
    cpu = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
    return (f"{os.cpu_count()} CPUs ({cpu.group(1) if cpu else platform.processor()}), "
            f"{memory_kb / 1024 / 1024:.1f} GiB RAM, {platform.system()} {platform.release()}")


def report(figures: Figures, command: str, load_before: str) -> str:
    proof, verify = figures.proof_ms, figures.verify_ms
    ratio = figures.entries_per_second / figures.pgbench_tps
    rows = [
        ("sequenced + checkpointed",
         f"**{figures.entries_per_second:,.0f} entries/s** ({figures.entries:,} in {figures.sequence_seconds:.1f} s, "
         f"batches of {figures.batch_size:,}, one signed checkpoint each)", "≥ 5,000/s"),
        (f"inclusion proof at {figures.entries:,} leaves (API service function, one query)",
         f"median **{statistics.median(proof):.2f} ms**, p95 {percentile(proof, 0.95):.2f} ms, "
         f"p99 {percentile(proof, 0.99):.2f} ms ({len(proof):,} random leaves)", "≤ 5 ms"),
        ("offline bundle verification (pinned key: signature, inclusion, entry format)",
         f"median **{statistics.median(verify):.2f} ms**, p95 {percentile(verify, 0.95):.2f} ms", "—"),
        ("`tradeloom ledger audit` of the whole log (every hash, node, signature, consistency)",
         f"{figures.audit_seconds:.1f} s", "—"),
        ("pgbench TPC-B-like, 8 clients, 20 s (same server, same run)", f"{figures.pgbench_tps:,.0f} tps", "reference"),
        ("ratio: sequenced entries/s ÷ pgbench tps", f"{ratio:.1f}", "—"),
    ]
    table = "\n".join(f"| {measure} | {figure} | {goal} |" for measure, figure, goal in rows)
    return f"""{SECTION}

- Command: `{command}`
- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC
- Machine: {machine()}; PostgreSQL {server_version()} on the same host
- Load average when the run started: {load_before} (the host is shared with other work)
- Entries: {figures.entries:,} canonical `order.placed` entries (loaded by COPY in {figures.fill_seconds:.1f} s);
  after sequencing, `VACUUM ANALYZE` (as autovacuum would) before the reads are timed, with no warm-up

| measure | figure | goal |
|---|---|---|
{table}
"""


def write_section(path: Path, section: str, heading: str = SECTION) -> None:
    """Replace (or add) the section under ``heading`` in BENCHMARKS.md, leaving the others as they are.

    Only the section's lead is replaced, up to its first ``###`` subsection: the earlier runs and readings
    recorded under it stay."""
    text = path.read_text() if path.exists() else "# Benchmarks\n\nFigures measured by `loadtest/`.\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^##[# ]|\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    path.write_text(text.rstrip() + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=get_settings().ledger_batch_size)
    parser.add_argument("--samples", type=int, default=2000, help="inclusion proofs and verifications to time")
    parser.add_argument("--write", type=Path, help="update this BENCHMARKS.md with the figures")
    arguments = parser.parse_args()
    url, load_before = server_url(), load_average()
    signer = LogSigner(ORIGIN, NoteSigner.from_signer_key(generate_signer_key(ORIGIN)))
    with scratch_database(url, BENCH_DB) as database_url:
        migrate.upgrade(database_url)
        fill_seconds = fill(database_url, arguments.entries)
        sequence_seconds = sequence_all(database_url, signer, arguments.batch_size)
        vacuum_analyze(database_url)
        proof_ms, verify_ms = asyncio.run(time_reads(database_url, signer, arguments.entries, arguments.samples))
        audit = audit_seconds(database_url, signer)
    figures = Figures(arguments.entries, arguments.batch_size, fill_seconds, sequence_seconds, proof_ms, verify_ms,
                      audit, pgbench_tps(url))
    section = report(figures, f"python -m loadtest.ledger_bench --entries {arguments.entries}", load_before)
    print(section)
    if arguments.write:
        write_section(arguments.write, section)


if __name__ == "__main__":
    main()
