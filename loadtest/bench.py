"""The one-command benchmark (``make bench``): order placement at full speed, the mixed workload, checks, report.

    python -m loadtest.bench [--workers 2] [--seconds 60] [--mixed-seconds 60] [--materials 100000] [--record]

1. Builds ``tl_bench`` (once; ``--rebuild`` starts over): the generated catalogue of 1,000 suppliers, 100,000
   materials and 300,000 offers with stock, the demo world, published identifiers (``loadtest.bench_world``);
   ``--orders-in-db N`` first fills the order tables to N orders (how cost grows).
2. Serves it like production: ``tradeloom serve --workers N`` (gunicorn + uvicorn workers, no access log,
   ``TRADELOOM_ENVIRONMENT=production``) and ``tradeloom worker`` beside it.
3. Order placement: ``wrk`` (C, light) with ``loadtest/orders.lua`` — 10-line carts from-cart + submit, a fresh
   Idempotency-Key each — for a warm-up, then ``--seconds``.
4. The mixed workload: Locust headless with ``loadtest/locustfile.py`` for ``--mixed-seconds``.
5. Checks (``loadtest.bench_checks``), pgbench TPC-B on the same server, CPU seconds per process group, and a
   report in ``var/bench/<time>.md`` + ``.json``; ``--record`` also writes the BENCHMARKS.md section.
"""

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg

from ledger.checkpoint import generate_signer_key
from loadtest import bench_world
from loadtest.bench_checks import check_run
from loadtest.ledger_bench import load_average, machine, pgbench_tps, write_section
from loadtest.resolution_bench import PREFIX
from loadtest.scratch import SERVER_URL, database_url, fresh_database
from tradeloom.db import libpq_url
from tradeloom.net import free_port

SECTION = "## Load test (make bench)"
HERE = Path(__file__).parent
DATABASE = "tl_bench"
REDIS_URL = os.environ.get("TRADELOOM_BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")


def _database_ready(url: str) -> bool:
    with contextlib.suppress(psycopg.OperationalError), psycopg.connect(libpq_url(url)) as conn:
        return conn.execute("SELECT to_regclass('materials') IS NOT NULL AND EXISTS (SELECT 1 FROM users "
                            "WHERE email = %s)", (bench_world.SUPPLIER_SALES,)).fetchone() == (True,)
    return False


def prepare(args: argparse.Namespace) -> str:
    url = database_url(DATABASE)
    if args.rebuild or not _database_ready(url):
        url = fresh_database(DATABASE)
        bench_world.build(url, materials=args.materials, suppliers=args.suppliers, identifiers=10_000)
    if args.orders_in_db:
        print(f"orders in the database: {bench_world.preload_orders(url, args.orders_in_db):,}")
    return url


def production_settings(url: str) -> dict[str, str]:
    """The app's environment for a bench: production mode on ``url``, fresh keys, no access log."""
    return {"TRADELOOM_DATABASE_URL": url, "TRADELOOM_REDIS_URL": REDIS_URL,
            "TRADELOOM_ENVIRONMENT": "production", "TRADELOOM_SECRET_KEY": secrets.token_hex(32),
            "TRADELOOM_LEDGER_SIGNING_KEY": generate_signer_key("bench.tradeloom.local/log"),
            "TRADELOOM_LOG_LEVEL": "WARNING", "TRADELOOM_HANDLE_PREFIX": PREFIX,
            "TRADELOOM_DATA_DIR": str(Path("var/bench/data").resolve())}


@contextlib.contextmanager
def served(url: str, workers: int, port: int) -> Iterator[psutil.Process]:
    """``tradeloom serve`` with production settings until the block ends; yields its process."""
    env = os.environ | production_settings(url)
    server = subprocess.Popen([sys.executable, "-m", "tradeloom.cli", "serve", "--workers", str(workers),  # noqa: S603
                               "--port", str(port)], env=env)
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/readyz", server)
        yield psutil.Process(server.pid)
    finally:
        stop(server)


def stop(server: subprocess.Popen[bytes]) -> None:
    """Terminate ``tradeloom serve``; kill it and its children if it has not stopped after 30 s."""
    children = psutil.Process(server.pid).children(recursive=True)
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        for process in [*children, psutil.Process(server.pid)]:
            with contextlib.suppress(psutil.Error):
                process.kill()
        server.wait(timeout=30)


def _wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 600  # a loaded shared machine starts gunicorn slowly (minutes at load 20+)
    while time.monotonic() < deadline and server.poll() is None:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise RuntimeError("the server did not become ready")


def cpu_seconds(server: psutil.Process) -> dict[str, float]:
    """CPU seconds so far of the app (gunicorn + workers + tradeloom worker), the generators, and each
    PostgreSQL backend serving the bench database (``pg:<pid>``).

    Only the bench database's backends count as PostgreSQL: the machine's server serves other work too.
    Use ``cpu_used`` for the difference of two snapshots.
    """
    groups = {"app": [server, *server.children(recursive=True)],
              "generator": [p for p in psutil.process_iter(["name"]) if p.info["name"] in ("wrk", "locust")]}
    totals = {group: sum(process_cpu(p, reaped=True) for p in processes) for group, processes in groups.items()}
    with psycopg.connect(libpq_url(SERVER_URL)) as conn:
        pids = [row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (DATABASE,))]
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            totals[f"pg:{pid}"] = process_cpu(psutil.Process(pid), reaped=False)
    return totals


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds between two ``cpu_seconds`` snapshots per group; PostgreSQL = its backends' sum (a
    backend that ended in between is missed)."""
    used = {k: after[k] - before.get(k, 0.0) for k in after if not k.startswith("pg:")}
    used["postgres"] = sum(after[k] - before.get(k, 0.0) for k in after if k.startswith("pg:"))
    return used


def bench_postmaster() -> psutil.Process:
    """The postmaster of the bench server (its data directory must be readable: the server is on this host)."""
    with psycopg.connect(libpq_url(SERVER_URL)) as conn:
        row = conn.execute("SELECT current_setting('data_directory')").fetchone()
    assert row
    return psutil.Process(int((Path(row[0]) / "postmaster.pid").read_text().split()[0]))


def process_cpu(process: psutil.Process, *, reaped: bool) -> float:
    """User + system CPU seconds of a process, with ``reaped`` also those of its children that have exited."""
    with contextlib.suppress(psutil.Error):
        times = process.cpu_times()
        return times.user + times.system + ((times.children_user + times.children_system) if reaped else 0.0)
    return 0.0


def run_wrk(base: str, carts: Path, results: Path, *, seconds: float, connections: int, tag: str) -> dict[str, Any]:
    """One wrk run of the order script; the acknowledged order ids, failure counts and latency percentiles."""
    env = os.environ | {"WRK_CARTS": str(carts), "WRK_RESULTS": str(results), "WRK_RUN_TAG": tag}
    subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", "10s",  # noqa: S603,S607
                    "-s", str(HERE / "orders.lua"), base], env=env, check=True, capture_output=True)
    ids, failures, latency = [], {}, {}
    for line in results.read_text().splitlines():
        words = line.split()
        if words[0] == "status":
            failures[words[1]] = failures.get(words[1], 0) + int(words[2])
        elif words[0] == "latency":
            latency[words[1]] = float(words[2])
        else:
            ids.append(line)
    return {"order_ids": ids, "failures": failures, "latency_ms": latency, "orders_per_second": len(ids) / seconds}


def run_locust(base: str, fixtures: Path, out: Path, *, seconds: float, users: int) -> list[dict[str, Any]]:
    """The mixed workload, headless; Locust's per-request-type statistics (failures are counted, not fatal)."""
    env = os.environ | {"TRADELOOM_BENCH_FIXTURES": str(fixtures)}
    run = subprocess.run([sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless",  # noqa: S603
                          "--host", base, "-u", str(users), "-r", str(max(1, users // 5)), "-t", f"{seconds:g}s",
                          "--csv", str(out), "--only-summary"], env=env, check=False, capture_output=True, text=True)
    stats = Path(f"{out}_stats.csv")
    if not stats.exists():  # Locust did not run (not installed: `make bench` installs the bench extra)
        raise SystemExit(f"Locust wrote no statistics:\n{run.stderr[-2000:]}")
    with stats.open(encoding="utf-8") as file:
        return [{"name": row["Name"], "requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                 "rps": float(row["Requests/s"]), "p50": float(row["50%"]), "p95": float(row["95%"]),
                 "p99": float(row["99%"])} for row in csv.DictReader(file)]


def report_markdown(result: dict[str, Any]) -> str:
    orders, checks = result["orders"], result["checks"]
    lat = orders["latency_ms"]
    rows = [SECTION, "",
            f"Command: `{result['command']}` (`make bench`)",
            f"Date: {result['date']}. Machine: {result['machine']}; load average before: {result['load_before']}. "
            f"Data: {result['data']}.",
            "Server: `tradeloom serve` (gunicorn, uvicorn workers, production settings) + `tradeloom worker`, "
            "PostgreSQL and the load generators on the same machine.", "",
            "| order placement (wrk, 10-line carts, from-cart + submit) | result |", "|---|---:|",
            f"| orders per second | {orders['orders_per_second']:,.1f} |",
            f"| latency p50 / p90 / p99 | {lat.get('p50', 0):.0f} / {lat.get('p90', 0):.0f} / "
            f"{lat.get('p99', 0):.0f} ms |",
            f"| errors (non-201 answers) | {sum(orders['failures'].values())} |",
            f"| pgbench TPC-B-like (same server, same run) | {result['pgbench_tps']:,.0f} tps |",
            f"| ratio orders/s ÷ pgbench tps | {orders['orders_per_second'] / result['pgbench_tps']:.3f} |",
            f"| checks: acknowledged {checks['acknowledged']:,}, stored once {checks['acknowledged_stored_once']:,}, "
            f"with evidence {checks['with_evidence']:,}, negative stock rows {checks['negative_stock_rows']} | "
            f"{'passed' if checks['passed'] else '**FAILED**'} |",
            "| CPU seconds during the order run: app / PostgreSQL / generator | "
            + " / ".join(f"{result['cpu_orders'][k]:.0f}" for k in ("app", "postgres", "generator")) + " |", ""]
    if result["mixed"]:
        rows += ["| mixed workload (Locust) | requests/s | p50 | p95 | p99 | failures |",
                 "|---|---:|---:|---:|---:|---:|"]
        rows += [f"| {r['name']} | {r['rps']:,.1f} | {r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} "
                 f"| {r['failures']} |" for r in result["mixed"]]
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--mixed-seconds", type=float, default=60, help="0 skips the Locust mix")
    parser.add_argument("--users", type=int, default=200, help="Locust users")
    parser.add_argument("--materials", type=int, default=100_000)
    parser.add_argument("--suppliers", type=int, default=1_000)
    parser.add_argument("--orders-in-db", type=int, default=0)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--record", action="store_true", help="write the BENCHMARKS.md section")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed for the order run: apt-get install -y wrk")
    url = prepare(args)
    out = Path("var/bench") / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    load_before = load_average()
    with served(url, args.workers, port) as server:
        world = bench_world.fixtures(url, base)
        (out / "fixtures.json").write_text(json.dumps(world))
        bench_world.write_carts(world, out / "carts.tsv", lines=args.lines)
        run_wrk(base, out / "carts.tsv", out / "warmup.txt", seconds=args.warmup, connections=args.connections,
                tag=f"warm-{out.name}")
        since, cpu_before = dt.datetime.now(dt.UTC), cpu_seconds(server)
        orders = run_wrk(base, out / "carts.tsv", out / "orders.txt", seconds=args.seconds,
                         connections=args.connections, tag=out.name)
        cpu_after, until = cpu_seconds(server), dt.datetime.now(dt.UTC)
        time.sleep(2)  # the worker sequences the last evidence entries
        mixed = (run_locust(base, out / "fixtures.json", out / "locust", seconds=args.mixed_seconds,
                            users=args.users) if args.mixed_seconds else [])
    buyer_orgs = _buyer_orgs(url)
    checks = check_run(url, order_ids=orders["order_ids"], buyer_org_ids=buyer_orgs, window=(since, until))
    result = {
        "command": shlex.join(["python", "-m", "loadtest.bench", *sys.argv[1:]]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(), "load_before": load_before,
        "args": vars(args), "data": _data_summary(url),
        "orders": {k: v for k, v in orders.items() if k != "order_ids"}, "checks": checks.as_dict(),
        "cpu_orders": cpu_used(cpu_before, cpu_after), "mixed": mixed,
        "pgbench_tps": pgbench_tps(SERVER_URL),
    }
    (out / "report.json").write_text(json.dumps(result, indent=2, default=str))
    markdown = report_markdown(result)
    (out / "report.md").write_text(markdown)
    if args.record:
        write_section(Path("BENCHMARKS.md"), markdown, SECTION)
    print(markdown)
    if not checks.passed:
        raise SystemExit("the checks failed: see the report")


def _buyer_orgs(url: str) -> list[str]:
    with psycopg.connect(libpq_url(url)) as conn:
        return [str(row[0]) for row in conn.execute(
            "SELECT DISTINCT m.org_id FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = ANY(%s)",
            (list(bench_world.BUYERS),))]


def _data_summary(url: str) -> str:
    with psycopg.connect(libpq_url(url)) as conn:
        counts = conn.execute("SELECT (SELECT count(*) FROM organizations), (SELECT count(*) FROM materials), "
                              "(SELECT count(*) FROM supplier_offers), (SELECT count(*) FROM purchase_orders)"
                              ).fetchone()
    assert counts
    return (f"{counts[0]:,} organizations, {counts[1]:,} materials, {counts[2]:,} offers, "
            f"{counts[3]:,} orders after the run")


if __name__ == "__main__":
    main()
