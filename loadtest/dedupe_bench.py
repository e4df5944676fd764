"""Duplicate scan over a large library: generate materials with COPY, then time ``scan_for_duplicates``.

    .venv/bin/python -m loadtest.dedupe_bench [--materials 100000] [--duplicates 0.03] [--seed 7]

Materials are spread over every leaf class of the shipped tree with weights 1/sqrt(rank) (a few classes
are large, most are small, like a real library); their attributes are valid for their class template,
their names are built from the class name and attribute values in both languages. A share of them
(``--duplicates``) are re-keyed copies of another material: same attributes (numbers written differently,
e.g. "30" vs "30.0"), names with other spacing and separators, another owner. Ends with the same run's
pgbench reference (``loadtest.ledger_bench.pgbench_tps``).
"""

import argparse
import asyncio
import datetime as dt
import json
import random
import time
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

import psycopg

from catalog.attributes import AttributeSpec, AttributeType
from catalog.classes import CatalogClass, load_class_tree
from catalog.codes import material_code
from catalog.governance.dedupe import scan_for_duplicates
from loadtest.ledger_bench import load_average, pgbench_tps
from loadtest.scratch import fresh_database
from tradeloom.db import libpq_url, make_engine, make_sessionmaker
from tradeloom.identity.uscc import check_character

OWNERS = 20
COLUMNS = ("id", "code", "class_code", "owner_org_id", "name_zh", "name_en", "attributes", "base_unit",
           "pack_sizes", "status", "version", "created_at", "updated_at")


def _value(spec: AttributeSpec, rng: random.Random) -> Any:
    if spec.type is AttributeType.ENUM:
        return rng.choice(spec.allowed or ("x",))
    if spec.type is AttributeType.BOOLEAN:
        return rng.random() < 0.5
    if spec.type is AttributeType.TEXT:
        return f"{rng.choice('ABCDEFGH')}{rng.randint(100, 9999)}"
    low, high = int(spec.min or 1), int(min(spec.max or 500, 500))
    number = rng.randint(low, max(low, high))
    if spec.type is AttributeType.RANGE:
        return {"min": str(number), "max": str(number + rng.randint(0, 50))}
    return str(number)


def _names(node: CatalogClass, attributes: dict[str, Any], variant: bool) -> tuple[str, str]:
    shown = [str(value) for value in attributes.values() if isinstance(value, str)][:3]
    joiner = "*" if variant else "x"
    return (f"{node.name_zh} {joiner.join(shown)}", f"{node.name_en} {(' ' + joiner + ' ').join(shown)}")


def _rewritten(attributes: dict[str, Any], node: CatalogClass) -> dict[str, Any]:
    """The same values as a second clerk would key them: whole numbers with a trailing ".0"."""
    copy = dict(attributes)
    for spec in node.attributes.attributes:
        if spec.type is AttributeType.NUMBER and spec.key in copy:
            copy[spec.key] = str(Decimal(copy[spec.key]).quantize(Decimal("0.0")))
    return copy


def generate(count: int, duplicate_share: float, rng: random.Random, owners: list[uuid.UUID]) -> list[tuple[Any, ...]]:
    leaves = load_class_tree().leaves()
    weights = [1 / (rank + 1) ** 0.5 for rank in range(len(leaves))]
    sequences: Counter[str] = Counter()
    rows: list[tuple[Any, ...]] = []
    originals: list[tuple[CatalogClass, dict[str, Any]]] = []
    now = dt.datetime.now(dt.UTC)
    for _ in range(count):
        if originals and rng.random() < duplicate_share:
            node, source = rng.choice(originals)
            attributes, variant = _rewritten(source, node), True
        else:
            node = rng.choices(leaves, weights)[0]
            attributes = {spec.key: _value(spec, rng) for spec in node.attributes.attributes
                          if spec.required or rng.random() < 0.5}
            originals.append((node, attributes))
            variant = False
        sequences[node.code] += 1
        name_zh, name_en = _names(node, attributes, variant)
        rows.append((uuid.uuid4(), material_code(node.code, sequences[node.code]), node.code, rng.choice(owners),
                     name_zh, name_en, json.dumps(attributes, ensure_ascii=False), "H87", "{}", "active", 1, now, now))
    return rows


def load(url: str, count: int, duplicate_share: float, seed: int) -> Counter[str]:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    owners = [uuid.uuid4() for _ in range(OWNERS)]
    with psycopg.connect(libpq_url(url)) as conn:
        with conn.cursor() as cursor:
            for number, owner in enumerate(owners):
                first17 = f"91310000BENCH{number:04d}"
                cursor.execute("INSERT INTO organizations (id, name_zh, name_en, kind, uscc, is_active, version)"
                               " VALUES (%s, %s, %s, 'supplier', %s, true, 1)",
                               (owner, f"基准{number}", f"Bench {number}", first17 + check_character(first17)))
            rows = generate(count, duplicate_share, rng, owners)
            with cursor.copy(f"COPY materials ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            per_class = Counter(row[2] for row in rows)
            cursor.executemany("UPDATE material_classes SET next_sequence = %s WHERE code = %s",
                               [(used + 1, code) for code, used in per_class.items()])
        conn.commit()
    return per_class


async def scan(url: str) -> tuple[float, Any]:
    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            started = time.perf_counter()
            summary = await scan_for_duplicates(session)
            return time.perf_counter() - started, summary
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--materials", type=int, default=100_000)
    parser.add_argument("--duplicates", type=float, default=0.03)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    load_before = load_average()
    url = fresh_database("tl_bench_dedupe")
    started = time.perf_counter()
    per_class = load(url, arguments.materials, arguments.duplicates, arguments.seed)
    print(f"generated {arguments.materials} materials in {len(per_class)} classes "
          f"(largest class {per_class.most_common(1)[0][1]}) with COPY in {time.perf_counter() - started:.1f} s")
    elapsed, summary = asyncio.run(scan(url))
    print(f"scan: {elapsed:.1f} s for {summary.materials} materials in {summary.classes} classes, "
          f"{summary.pairs} candidate pairs stored ({summary.materials / elapsed:.0f} materials/s)")
    print(f"load average at start: {load_before}; same-run reference: pgbench {pgbench_tps(libpq_url(url)):,.0f} tps")


if __name__ == "__main__":
    main()
