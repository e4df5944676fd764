"""Bulk-load a large catalogue for search benchmarks: materials, supplier offers, price tiers and stock.

    python -m loadtest.catalog_data --database-url postgresql://postgres@127.0.0.1:5432/tl_bench_catalog

Names are built from the shipped class tree and each leaf's attribute template (thread, length, material,
surface …), in Chinese and English, the way suppliers write them ("不锈钢六角头螺栓 M8×30 A2-70"). Rows go in
with COPY; then every material is indexed by the same code as ``tradeloom catalog reindex``. Deterministic
for a given ``--seed``. Migrates the database first; refuses a database that already holds materials.
"""

import argparse
import asyncio
import datetime as dt
import json
import random
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg

from catalog.classes import CatalogClass, load_class_tree
from catalog.codes import gs1_check_digit, material_code
from catalog.jobs import reindex_everything
from tradeloom import migrate
from tradeloom.db import libpq_url, make_engine, make_sessionmaker
from tradeloom.identity.uscc import ALPHABET, check_character
from tradeloom.settings import Settings

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
CITIES = [("江苏省", "苏州市"), ("浙江省", "宁波市"), ("广东省", "东莞市"), ("河北省", "邯郸市"), ("上海市", "上海市")]
SUPPLIER_WORDS = ["恒力", "永固", "华通", "精工", "宏达", "东方", "金鼎", "瑞丰", "国泰", "天成"]
SUPPLIER_EN = ["Hengli", "Yonggu", "Huatong", "Jinggong", "Hongda", "Dongfang", "Jinding", "Ruifeng", "Guotai",
               "Tiancheng"]


def _uscc(rng: random.Random) -> str:
    first17 = "91320500" + "".join(rng.choice(ALPHABET) for _ in range(9))
    return first17 + check_character(first17)


def _value(spec: dict[str, Any], rng: random.Random) -> str:
    if spec["type"] == "enum":
        return str(rng.choice(spec["allowed"]))
    if spec["type"] == "number":
        low, high = int(Decimal(spec.get("min") or 1)), int(Decimal(spec.get("max") or 1000))
        return str(rng.choice([v for v in (6, 8, 10, 12, 16, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200, 300)
                               if low <= v <= high] or [low]))
    return ""


def _names(leaf: CatalogClass, attributes: dict[str, str]) -> tuple[str, str]:
    """Supplier-style names: material, class name, then the identifying attribute values."""
    zh_labels: dict[str, str] = {}
    for spec in leaf.attributes.attributes:
        zh_labels.update(spec.allowed_zh or {})
    material = attributes.get("material", "")
    size = attributes.get("thread") or attributes.get("designation") or attributes.get("size") or ""
    length = attributes.get("length_mm", "")
    dimension = f"{size}×{length}" if size and length else size or length
    extras = [attributes[key] for key in ("strength_grade", "surface", "standard") if attributes.get(key)]
    zh_extras = [zh_labels.get(value, value) for value in extras]
    name_zh = " ".join(filter(None, [zh_labels.get(material, material) + leaf.name_zh, dimension, *zh_extras[:2]]))
    name_en = " ".join(filter(None, [material, leaf.name_en.rstrip("s"), dimension.replace("×", "x"), *extras[:2]]))
    return name_zh[:300], name_en[:300]


def material_rows(count: int, owners: list[uuid.UUID], rng: random.Random) -> Iterator[tuple[Any, ...]]:
    leaves = [leaf for leaf in load_class_tree().leaves() if leaf.attributes.attributes]
    sequences: dict[str, int] = {}
    for index in range(count):
        leaf = rng.choice(leaves)
        sequences[leaf.code] = sequences.get(leaf.code, 0) + 1
        specs = [spec.model_dump(mode="json") for spec in leaf.attributes.attributes]
        attributes = {spec["key"]: value for spec in specs if (value := _value(spec, rng))}
        name_zh, name_en = _names(leaf, attributes)
        gtin = None
        if index % 4 == 0:
            payload = f"693{index:09d}"  # 693…: apart from the demo catalogue's 690… GTINs
            gtin = payload + str(gs1_check_digit(payload))
        yield (uuid.UUID(int=rng.getrandbits(128)), material_code(leaf.code, sequences[leaf.code]), leaf.code,
               rng.choice(owners), name_zh, name_en, json.dumps(attributes, ensure_ascii=False), "H87", "{}", gtin,
               "active", NOW, NOW, 1)


def _copy(conn: psycopg.Connection, table: str, columns: str, rows: Iterator[tuple[Any, ...]]) -> int:
    written = 0
    with conn.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            written += 1
    return written


def _suppliers(conn: psycopg.Connection, count: int, rng: random.Random) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(org id, warehouse site id) for each supplier."""
    suppliers = [(uuid.uuid4(), uuid.uuid4()) for _ in range(count)]
    _copy(conn, "organizations", "id, name_zh, name_en, kind, uscc, is_active, created_at, version", (
        (org, f"{SUPPLIER_WORDS[i % 10]}{i}号五金有限公司", f"{SUPPLIER_EN[i % 10]} No.{i} Hardware Co., Ltd.",
         "supplier", _uscc(rng), True, NOW, 1) for i, (org, _site) in enumerate(suppliers)))
    _copy(conn, "sites", "id, org_id, code, kind, name_zh, name_en, country, province, city, address_line, "
          "is_active, created_at, version", (
              (site, org, "WH-1", "warehouse", "成品仓", "Finished goods", "CN", *CITIES[i % len(CITIES)],
               f"工业园区 {i} 号", True, NOW, 1) for i, (org, site) in enumerate(suppliers)))
    return suppliers


def _offers(conn: psycopg.Connection, materials: list[uuid.UUID], suppliers: list[tuple[uuid.UUID, uuid.UUID]],
            per_material: int, rng: random.Random) -> int:
    offers: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, int]] = []
    offer_rows = []
    for m_index, material in enumerate(materials):
        for s_index in rng.sample(range(len(suppliers)), per_material):
            offer = uuid.UUID(int=rng.getrandbits(128))
            org, site = suppliers[s_index]
            offers.append((offer, org, site, m_index))
            currency = "USD" if rng.random() < 0.05 else "CNY"
            lead_time = rng.choice([1, 2, 3, 5, 7, 10, 15, 30])
            offer_rows.append((offer, material, f"P{s_index:03d}-{m_index:07d}", currency, "H87", 1, 1, lead_time,
                               "EXW", NOW.date(), "active", NOW, org, 1))
    _copy(conn, "supplier_offers", "id, material_id, supplier_part_number, currency, order_unit, moq, pack_size, "
          "lead_time_days, incoterm, valid_from, status, created_at, org_id, version", iter(offer_rows))
    tiers = []
    for offer, org, _site, _m in offers:
        base = Decimal(rng.randint(5, 500_000)) / 100
        tiers += [(offer, Decimal(10) ** step, (base * (Decimal("0.92") ** step)).quantize(Decimal("0.0001")), org)
                  for step in range(rng.randint(1, 3))]
    _copy(conn, "offer_price_tiers", "offer_id, min_quantity, unit_price, org_id", iter(tiers))
    _copy(conn, "offer_stock", "offer_id, site_id, quantity, updated_at, org_id", (
        (offer, site, Decimal(rng.randint(1, 5000)), NOW, org) for offer, org, site, _m in offers
        if rng.random() < 0.4))
    return len(offers)


def load(database_url: str, *, materials: int, offers_per_material: int, suppliers: int, seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    started = time.monotonic()
    migrate.upgrade(database_url)
    with psycopg.connect(libpq_url(database_url)) as conn:
        if conn.execute("SELECT count(*) FROM materials").fetchone() != (0,):
            raise SystemExit("the database already holds materials: use an empty one")
        supplier_rows = _suppliers(conn, suppliers, rng)
        owners = [org for org, _site in supplier_rows]
        rows = list(material_rows(materials, owners, rng))
        _copy(conn, "materials", "id, code, class_code, owner_org_id, name_zh, name_en, attributes, base_unit, "
              "pack_sizes, gtin, status, updated_at, created_at, version", iter(rows))
        conn.execute("UPDATE material_classes c SET next_sequence = s.n + 1 FROM (SELECT class_code, count(*) AS n "
                     "FROM materials GROUP BY class_code) s WHERE s.class_code = c.code")
        offer_count = _offers(conn, [row[0] for row in rows], supplier_rows, offers_per_material, rng)
        conn.execute("ANALYZE")
    print(f"loaded {materials} materials, {offer_count} offers in {time.monotonic() - started:.1f} s")
    started = time.monotonic()
    indexed = asyncio.run(_index(database_url))
    print(f"indexed {indexed} materials in {time.monotonic() - started:.1f} s")


async def _index(database_url: str) -> int:
    engine = make_engine(database_url, pool_size=2)
    try:
        return await reindex_everything(make_sessionmaker(engine), Settings(database_url=database_url))
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--materials", type=int, default=100_000)
    parser.add_argument("--offers-per-material", type=int, default=3)
    parser.add_argument("--suppliers", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20261125)
    args = parser.parse_args()
    load(args.database_url, materials=args.materials, offers_per_material=args.offers_per_material,
         suppliers=args.suppliers, seed=args.seed)


if __name__ == "__main__":
    main()
