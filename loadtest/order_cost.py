"""What one order costs, in figures that do not depend on the machine's other load.

    TRADELOOM_BENCH_SERVER_URL=postgresql://postgres@127.0.0.1:5461/postgres \\
        python -m loadtest.order_cost [--seconds 30] [--connections 8] [--workers 2] [--top 20]

Serves ``tl_bench`` (built by ``loadtest.bench``) like ``make bench`` does, places orders with ``wrk`` and
``loadtest/orders.lua`` and reports per acknowledged order: CPU milliseconds of the app processes (gunicorn
workers, ``tradeloom worker`` and its jobs, the IoT bridge) and of the PostgreSQL server's processes (the
postmaster's own children only, exited ones included: the server should serve nothing else), SQL statements,
transactions and new connections; with ``pg_stat_statements`` loaded on that server also each statement's
calls and execution time per order, split by role (``tradeloom_app`` = request and job transactions, the
owner = platform loops). Orders per second depends on the machine's load; these per-order figures hardly do.
"""

import argparse
import contextlib
import json
import time
from pathlib import Path
from typing import Any

import psutil
import psycopg

from loadtest import bench, bench_world
from loadtest.ledger_bench import load_average
from loadtest.scratch import SERVER_URL, database_url
from tradeloom.db import libpq_url
from tradeloom.net import free_port


def cpu_snapshot(app: psutil.Process) -> dict[str, float]:
    """CPU seconds so far: the app, each part of it, and the bench server's PostgreSQL processes."""
    postmaster = bench.bench_postmaster()
    totals = {"app": 0.0, "postgres": bench.process_cpu(postmaster, reaped=True) + sum(
        bench.process_cpu(p, reaped=False) for p in postmaster.children())}
    for process in [app, *app.children(recursive=True)]:
        seconds = bench.process_cpu(process, reaped=True)
        totals["app"] += seconds
        kind = _kind(process)
        totals[kind] = totals.get(kind, 0.0) + seconds
    return totals


def _kind(process: psutil.Process) -> str:
    """Which part of the app a process is: web (gunicorn), worker (+ its job processes), iot bridge, other."""
    with contextlib.suppress(psutil.Error):
        words = " ".join(process.cmdline())
        if "gunicorn" in words:
            return "app:web"
        if "iot-bridge" in words:
            return "app:iot"
        if "worker" in words or "rq:" in words or "work-horse" in words.lower():
            return "app:worker"
    return "app:other"


_COUNTERS = "SELECT xact_commit + xact_rollback, sessions FROM pg_stat_database WHERE datname = %s"

_STATEMENTS = """
SELECT r.rolname, s.query, sum(s.calls)::bigint, sum(s.total_exec_time), sum(s.rows)::bigint,
       sum(s.shared_blks_hit + s.shared_blks_read)::bigint, sum(s.shared_blks_dirtied)::bigint
FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid JOIN pg_database d ON d.oid = s.dbid
WHERE d.datname = %s GROUP BY 1, 2 ORDER BY 4 DESC
"""


def _statements_available(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT to_regclass('pg_stat_statements') IS NOT NULL").fetchone() == (True,)


def statement_report(conn: psycopg.Connection, database: str, orders: int, top: int) -> dict[str, Any]:
    rows = conn.execute(_STATEMENTS, (database,)).fetchall()
    by_role: dict[str, dict[str, float]] = {}
    for role, _query, calls, total_ms, *_ in rows:
        group = by_role.setdefault(role, {"calls": 0, "exec_ms": 0.0})
        group["calls"] += calls
        group["exec_ms"] += total_ms
    per = max(orders, 1)
    return {
        "by_role": {role: {"calls_per_order": g["calls"] / per, "exec_ms_per_order": g["exec_ms"] / per}
                    for role, g in by_role.items()},
        "top": [{"role": role, "query": " ".join(query.split())[:160], "calls_per_order": calls / per,
                 "exec_ms_per_order": total_ms / per, "ms_per_call": total_ms / max(calls, 1),
                 "rows_per_call": rows_ / max(calls, 1), "blocks_per_call": blocks / max(calls, 1),
                 "dirtied_per_order": dirtied / per}
                for role, query, calls, total_ms, rows_, blocks, dirtied in rows[:top]],
    }


def measure(args: argparse.Namespace) -> dict[str, Any]:
    url = database_url(bench.DATABASE)
    out = Path("var/bench") / ("cost-" + time.strftime("%Y%m%d-%H%M%S"))
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    load_before = load_average()
    with (bench.served(url, args.workers, port) as server,
          psycopg.connect(libpq_url(SERVER_URL), autocommit=True) as admin):
        world = bench_world.fixtures(url, base)
        bench_world.write_carts(world, out / "carts.tsv", lines=args.lines)
        bench.run_wrk(base, out / "carts.tsv", out / "warmup.txt", seconds=args.warmup,
                      connections=args.connections, tag=f"warm-{out.name}")
        time.sleep(args.settle)  # the worker catches up with the warm-up's events and evidence
        statements = _statements_available(admin)
        if statements:
            admin.execute("SELECT pg_stat_statements_reset()")
        counters_before, cpu_before = admin.execute(_COUNTERS, (bench.DATABASE,)).fetchone(), cpu_snapshot(server)
        orders = bench.run_wrk(base, out / "carts.tsv", out / "orders.txt", seconds=args.seconds,
                               connections=args.connections, tag=out.name)
        time.sleep(args.settle)  # the background work the orders caused is part of their cost
        cpu_after, counters_after = cpu_snapshot(server), admin.execute(_COUNTERS, (bench.DATABASE,)).fetchone()
        placed = len(orders["order_ids"])
        result: dict[str, Any] = {
            "label": args.label, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "load_before": load_before, "load_after": load_average(), "workers": args.workers,
            "connections": args.connections, "seconds": args.seconds, "orders": placed,
            "orders_per_second": orders["orders_per_second"], "latency_ms": orders["latency_ms"],
            "failures": orders["failures"],
            "cpu_ms_per_order": {k: 1000 * (cpu_after[k] - cpu_before.get(k, 0.0)) / max(placed, 1) for k in cpu_after},
            "transactions_per_order": (counters_after[0] - counters_before[0]) / max(placed, 1),  # type: ignore[index]
            "connections_opened": counters_after[1] - counters_before[1],  # type: ignore[index]
        }
        if statements:
            result["statements"] = statement_report(admin, bench.DATABASE, placed, args.top)
    checks = bench.check_run(url, order_ids=orders["order_ids"], buyer_org_ids=bench._buyer_orgs(url),
                             window=(bench.dt.datetime.now(bench.dt.UTC) - bench.dt.timedelta(days=1),
                                     bench.dt.datetime.now(bench.dt.UTC)))
    result["checks"] = checks.as_dict()
    (out / "cost.json").write_text(json.dumps(result, indent=2))
    return result


def summary(result: dict[str, Any]) -> str:
    cpu = result["cpu_ms_per_order"]
    parts = ", ".join(f"{k[4:]} {v:.1f}" for k, v in sorted(cpu.items()) if k.startswith("app:"))
    lines = [f"{result['label']}: {result['orders']} orders, {result['orders_per_second']:.1f}/s, "
             f"p50 {result['latency_ms'].get('p50', 0):.0f} ms, load {result['load_before']}; CPU ms/order app "
             f"{cpu['app']:.1f} ({parts})"
             f", PostgreSQL {cpu['postgres']:.1f}; transactions/order "
             f"{result['transactions_per_order']:.1f}; connections opened {result['connections_opened']}; "
             f"checks {'passed' if result['checks']['passed'] else 'FAILED'}"]
    if "statements" in result:
        for role, group in result["statements"]["by_role"].items():
            lines.append(f"  {role}: {group['calls_per_order']:.1f} statements, "
                         f"{group['exec_ms_per_order']:.2f} ms executing per order")
        for row in result["statements"]["top"]:
            lines.append(f"  {row['exec_ms_per_order']:7.3f} ms/order {row['calls_per_order']:6.2f} calls/order "
                         f"{row['ms_per_call']:7.3f} ms/call {row['blocks_per_call']:8.1f} blk  "
                         f"[{row['role']}] {row['query']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--settle", type=float, default=3, help="seconds for the worker to catch up")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--label", default="run")
    print(summary(measure(parser.parse_args())))


if __name__ == "__main__":
    main()
