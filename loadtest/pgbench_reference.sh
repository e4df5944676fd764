#!/usr/bin/env bash
# The reference figure printed beside our benchmarks: pgbench TPC-B, 8 clients, 20 s, scale 10, in a
# scratch database of its own on the same server, run right after the benchmark it accompanies.
#   loadtest/pgbench_reference.sh [postgresql://postgres@127.0.0.1:5432]
set -euo pipefail
SERVER="${1:-postgresql://postgres@127.0.0.1:5432}"
DB=tl_bench_pgbench
psql -q "$SERVER/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
pgbench -q -i -s 10 "$SERVER/$DB" >/dev/null 2>&1
echo "date: $(date -u +%FT%TZ); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
pgbench -c 8 -j 2 -T 20 "$SERVER/$DB" 2>/dev/null | grep -E "^(scaling|number of clients|latency average|tps)"
psql -q "$SERVER/postgres" -c "DROP DATABASE $DB WITH (FORCE)"
