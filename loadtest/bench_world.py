"""The benchmark's data set and the fixtures its load generators read.

The data set: the large generated catalogue (``loadtest.catalog_data``: 1,000 supplier organizations with a
warehouse each, 100,000 materials, 300,000 offers with price tiers and stock), then the demo world on top
(``tradeloom seed-demo``: buyers with delivery sites, the supplier ``nbpf`` and its priced offers), published
identifiers for the traceability lookups, and — for "how cost grows" — optionally N orders already placed.
"""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg

from loadtest import catalog_data, resolution_bench
from tradeloom.db import libpq_url
from tradeloom.seed import DEMO_PASSWORD

BUYERS = ("buyer@ecm.demo", "buyer@szsm.demo", "buyer@tjap.demo")
SUPPLIER_SALES, SUPPLIER_ADMIN = "sales@nbpf.demo", "admin@nbpf.demo"
CART_LINES = 20


def build(database_url: str, *, materials: int, suppliers: int, identifiers: int) -> None:
    """Generated catalogue, then the demo world, then published identifiers (the database must be empty).

    The outbox events of building it are marked dispatched: otherwise the worker spends the first minutes
    of every run (and its CPU in the report) on thousands of ``material.created`` fan-out jobs.
    """
    catalog_data.load(database_url, materials=materials, offers_per_material=3, suppliers=suppliers, seed=20261125)
    env = os.environ | {"TRADELOOM_DATABASE_URL": database_url}
    subprocess.run([sys.executable, "-m", "tradeloom.cli", "seed-demo"], env=env, check=True,
                   capture_output=True)
    resolution_bench.fill(database_url, identifiers)
    with psycopg.connect(libpq_url(database_url)) as conn:  # the data set's own events are history, not load
        conn.execute("UPDATE outbox SET dispatched_at = now() WHERE dispatched_at IS NULL")


def preload_orders(database_url: str, count: int) -> int:
    """Copy the demo's placed orders until ``count`` orders exist (for the cost-growth runs); returns the total.

    Copies keep their lines, get fresh ids and numbers, and are old (created a year ago), so they weigh on the
    tables and indexes the hot path touches without being mistaken for orders of the run. Copied in batches
    through a small analysed table (one statement joining a million generated rows was planned as a nested
    loop and never ended), then vacuumed and analysed: this machine's server runs without autovacuum, and a
    production database holding a million orders has been vacuumed.
    """
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        existing, copied = conn.execute(  # type: ignore[misc]
            "SELECT count(*), count(*) FILTER (WHERE number LIKE 'PO-2025-B%%') FROM purchase_orders").fetchone()
        first = copied + 1  # copies are numbered on from the earlier preloads' copies
        end = first + count - existing
        for start in range(first, end, PRELOAD_BATCH):
            with conn.transaction():
                conn.execute("CREATE TEMP TABLE preload_copies (new_id uuid, template_id uuid, serial int) "
                             "ON COMMIT DROP")
                conn.execute(_PRELOAD_COPIES, {"first": start, "last": min(start + PRELOAD_BATCH, end) - 1})
                conn.execute("ANALYZE preload_copies")
                conn.execute(_PRELOAD_ORDERS)
                conn.execute(_PRELOAD_LINES)
        if count > existing:
            conn.execute("VACUUM ANALYZE purchase_orders, order_lines")
            conn.execute("CHECKPOINT")
        return int(conn.execute("SELECT count(*) FROM purchase_orders").fetchone()[0])  # type: ignore[index]


PRELOAD_BATCH = 100_000
_PRELOAD_COPIES = """
INSERT INTO preload_copies
WITH templates AS (
    SELECT id, row_number() OVER (ORDER BY id) AS n, count(*) OVER () AS templates FROM purchase_orders
    WHERE number NOT LIKE 'PO-2025-B%%'
)
SELECT gen_random_uuid() AS new_id, t.id AS template_id, g AS serial
FROM generate_series(%(first)s::int, %(last)s::int) g JOIN templates t ON t.n = 1 + g %% t.templates
"""
_PRELOAD_ORDERS = """
INSERT INTO purchase_orders (id, number, buyer_org_id, supplier_org_id, delivery_site_id, currency,
    fx_rate_to_cny, payment_terms, requested_date, cost_centre, source, reference, status, confirmation,
    net_total, tax_total, gross_total, approvals_required, approvals_given, budget_reserved,
    created_by_user_id, updated_at, created_at, version)
SELECT c.new_id, 'PO-2025-B' || lpad(c.serial::text, 8, '0'), o.buyer_org_id, o.supplier_org_id,
    o.delivery_site_id, o.currency, o.fx_rate_to_cny, o.payment_terms, o.requested_date, o.cost_centre,
    o.source, o.reference, o.status, o.confirmation, o.net_total, o.tax_total, o.gross_total,
    o.approvals_required, o.approvals_given, 0, o.created_by_user_id, now() - interval '1 year',
    now() - interval '1 year', 1
FROM preload_copies c JOIN purchase_orders o ON o.id = c.template_id
"""
_PRELOAD_LINES = """
INSERT INTO order_lines (id, order_id, buyer_org_id, supplier_org_id, line_no, material_id, material_code,
    material_class, quantity, unit, unit_price, tax_rate, net, tax, gross, requested_date, confirmed_quantity,
    confirmed_date, price_rule, price_reference)
SELECT gen_random_uuid(), c.new_id, l.buyer_org_id, l.supplier_org_id, l.line_no, l.material_id, l.material_code,
    l.material_class, l.quantity, l.unit, l.unit_price, l.tax_rate, l.net, l.tax, l.gross, l.requested_date,
    l.confirmed_quantity, l.confirmed_date, l.price_rule, l.price_reference
FROM preload_copies c JOIN order_lines l ON l.order_id = c.template_id
"""


def _token(base: str, email: str) -> str:
    answer = httpx.post(f"{base}/api/v1/auth/token", json={"email": email, "password": DEMO_PASSWORD}, timeout=30)
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def _supplier_api_key(base: str) -> str:
    """An ERP's key for the supplier (made by its administrator): offers may be read and changed with it."""
    answer = httpx.post(f"{base}/api/v1/api-keys", timeout=30, json={
        "name": f"bench-{uuid.uuid4().hex[:8]}", "scopes": ["catalog.read", "offers.manage"],
        "rate_limit_per_minute": 100_000,
    }, headers={"Authorization": f"Bearer {_token(base, SUPPLIER_ADMIN)}", "Idempotency-Key": str(uuid.uuid4())})
    answer.raise_for_status()
    return str(answer.json()["key"])


def fixtures(database_url: str, base: str) -> dict[str, Any]:
    """Tokens, ids and codes the load generators need, read from the database and the running server."""
    with psycopg.connect(libpq_url(database_url)) as conn:
        supplier = conn.execute("SELECT m.org_id FROM memberships m JOIN users u ON u.id = m.user_id "
                                "WHERE u.email = %s", (SUPPLIER_SALES,)).fetchone()
        assert supplier, "the demo world is missing: build the data set first"
        sites = dict(conn.execute(  # type: ignore[arg-type]
            "SELECT u.email, min(s.id::text) FROM users u JOIN memberships m ON m.user_id = u.id "
            "JOIN sites s ON s.org_id = m.org_id WHERE u.email = ANY(%s) GROUP BY u.email", (list(BUYERS),)).fetchall())
        offers = conn.execute(
            "SELECT o.id, m.id, m.code, o.order_unit, o.moq FROM supplier_offers o "
            "JOIN materials m ON m.id = o.material_id WHERE o.org_id = %s AND o.status = 'active' "
            "AND m.status = 'active' ORDER BY m.code LIMIT %s",
            (supplier[0], CART_LINES)).fetchall()
        handles = [row[0] for row in conn.execute("SELECT handle FROM identifiers WHERE published LIMIT 2000")]
    sales_token = _token(base, SUPPLIER_SALES)
    return {
        "supplier_org_id": str(supplier[0]),
        "buyers": [{"email": email, "token": _token(base, email), "site_id": sites[email]} for email in BUYERS],
        "supplier_token": sales_token,
        "supplier_api_key": _supplier_api_key(base),
        "cart_lines": [{"material_code": code, "quantity": str(moq), "unit": unit}
                       for *_ids, code, unit, moq in offers],
        "price_queries": [{"material_id": str(material_id), "quantity": str(moq), "unit": unit}
                          for _offer, material_id, _code, unit, moq in offers],
        "offer_ids": [str(offer_id) for offer_id, *_ in offers],
        "handles": handles,
    }


def write_carts(world: dict[str, Any], path: Path, *, lines: int) -> None:
    """The wrk order script's carts: each buyer ordering the first ``lines`` cart lines, one TSV line per buyer."""
    rows = []
    for buyer in world["buyers"]:
        body = {"supplier_org_id": world["supplier_org_id"], "delivery_site_id": buyer["site_id"], "submit": True,
                "lines": world["cart_lines"][:lines]}
        rows.append(f"{buyer['token']}\t{json.dumps(body, separators=(',', ':'))}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
