"""Catalogue import throughput: one 10,000-row materials CSV, checked and written in one transaction.

    .venv/bin/python -m loadtest.import_bench [--rows 10000]

Creates its own scratch database (``tl_bench_import``), runs the import job's code path (the same
``run_import`` the RQ job calls, with progress transactions) and prints rows per second, then the same
run's pgbench reference (``loadtest.ledger_bench.pgbench_tps``).
"""

import argparse
import asyncio
import secrets
import time

from catalog.imports.reading import FileFormat
from catalog.imports.rows import ImportKind
from catalog.imports.service import request_import, run_import
from loadtest.ledger_bench import load_average, pgbench_tps
from loadtest.scratch import fresh_database
from tradeloom.audit import Actor
from tradeloom.db import apply_tenant, libpq_url, make_engine, make_sessionmaker
from tradeloom.identity import service as identity
from tradeloom.identity.roles import OrgKind, Role
from tradeloom.identity.uscc import check_character

THREADS = ("M3", "M4", "M5", "M6", "M8", "M10", "M12", "M16", "M20", "M24")
MATERIALS = ("carbon steel", "alloy steel", "SS304", "SS316", "brass")
BENCH_USCC = "91310000BENCH0001" + check_character("91310000BENCH0001")
HEADER = "class_code,name_zh,name_en,base_unit,gtin,attr:thread,attr:length_mm,attr:material,attr:surface\n"


def materials_csv(rows: int) -> bytes:
    """Distinct hex bolts: thread × length × material, named in both languages."""
    lines = [HEADER]
    for index in range(rows):
        thread, material = THREADS[index % len(THREADS)], MATERIALS[index // len(THREADS) % len(MATERIALS)]
        length = 5 + index // (len(THREADS) * len(MATERIALS))
        lines.append(f"100101,{material}六角螺栓 {thread}x{length},{material} hex bolt {thread}x{length},H87,,"
                     f"{thread},{length},{material},zinc plated\n")
    return "".join(lines).encode("utf-8")


async def main(rows: int) -> None:
    load_before = load_average()
    url = fresh_database("tl_bench_import")
    engine = make_engine(url, pool_size=4)
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as session, session.begin():
        org = await identity.create_organization(session, name_zh="基准测试有限公司", name_en="Bench Co.",
                                                 kind=OrgKind.BUYER, uscc=BENCH_USCC)
        user = await identity.create_user(session, email="bench@example.test", display_name="Bench",
                                          password=secrets.token_urlsafe(16))
        await identity.add_member(session, org_id=org.id, user_id=user.id, roles=[Role.BUYER.value])
        await apply_tenant(session, org_id=org.id, user_id=user.id)
        content = materials_csv(rows)
        started = time.perf_counter()
        record = await request_import(session, actor=Actor(org_id=org.id, user_id=user.id),
                                      kind=ImportKind.MATERIALS, file_format=FileFormat.CSV,
                                      filename="bench.csv", content=content, dry_run=False)
    accepted = time.perf_counter() - started
    started = time.perf_counter()
    status = await run_import(sessionmaker, org_id=org.id, import_id=record.id)
    elapsed = time.perf_counter() - started
    await engine.dispose()
    print(f"file: {rows} rows, {len(content) / 1024:.0f} KiB; upload checks {accepted:.2f} s")
    print(f"import: status={status}, {elapsed:.2f} s, {rows / elapsed:.0f} rows/s")
    print(f"load average at start: {load_before}; same-run reference: pgbench {pgbench_tps(libpq_url(url)):,.0f} tps")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    asyncio.run(main(parser.parse_args().rows))
