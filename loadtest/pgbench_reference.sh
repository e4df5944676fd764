#!/usr/bin/env bash
# The reference figure printed beside our benchmarks: pgbench TPC-B-like, scale 10, 8 clients, 20 s, in a
# scratch database of its own on the same server — the same loadtest.ledger_bench.pgbench_tps every
# benchmark calls (run it alone to compare machines).
#   loadtest/pgbench_reference.sh [postgresql://postgres@127.0.0.1:5432/postgres]
set -euo pipefail
SERVER="${1:-postgresql://postgres@127.0.0.1:5432/postgres}"
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"
"$PYTHON" - "$SERVER" <<'PY'
import sys

from loadtest.ledger_bench import load_average, pgbench_tps

print(f"load average: {load_average()}")
print(f"tps = {pgbench_tps(sys.argv[1]):,.0f} (pgbench TPC-B-like, scale 10, 8 clients, 20 s)")
PY
