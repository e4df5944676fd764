"""What must hold after a benchmark run: a fast run that loses or duplicates data is a failed run."""

import datetime as dt
from dataclasses import asdict, dataclass

import psycopg

from tradeloom.db import libpq_url


@dataclass(frozen=True)
class RunChecks:
    acknowledged: int  # orders the server answered 201 for
    acknowledged_stored_once: int  # of those, found exactly once in purchase_orders
    unacknowledged_stored: int  # orders of the run the client never saw acknowledged (timeouts)
    with_evidence: int  # acknowledged orders whose evidence entry is in the ledger
    negative_stock_rows: int  # stock rows below zero or reserving more than on hand (must be 0)
    unbalanced_journal_entries: int | None  # None while the settlement journal does not exist

    @property
    def passed(self) -> bool:
        return (self.acknowledged_stored_once == self.acknowledged == self.with_evidence
                and self.negative_stock_rows == 0 and not self.unbalanced_journal_entries)

    def as_dict(self) -> dict[str, object]:
        return asdict(self) | {"passed": self.passed}


# Stock rows that must never exist, by table (a table is checked once its module has landed).
_IMPOSSIBLE_STOCK = {
    "offer_stock": "quantity < 0",
    "stock_levels": "quantity < 0",
    "stock_balances": "reserved < 0 OR reserved > on_hand",
}


def _impossible_stock_rows(conn: psycopg.Connection) -> int:
    total = 0
    for table, condition in _IMPOSSIBLE_STOCK.items():
        if _table_exists(conn, table):
            row = conn.execute(f"SELECT count(*) FROM {table} WHERE {condition}").fetchone()  # noqa: S608
            total += int(row[0]) if row else 0
    return total


def _table_exists(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone() == (True,)


def check_run(database_url: str, *, order_ids: list[str], buyer_org_ids: list[str],
              window: tuple[dt.datetime, dt.datetime]) -> RunChecks:
    """Every acknowledged order stored exactly once with its evidence; stock and journal consistent."""
    with psycopg.connect(libpq_url(database_url)) as conn:
        stored_once = conn.execute(
            "SELECT count(*) FROM (SELECT id FROM purchase_orders WHERE id = ANY(%s::uuid[]) GROUP BY id "
            "HAVING count(*) = 1) s", (order_ids,)).fetchone()
        of_run = conn.execute("SELECT count(*) FROM purchase_orders WHERE created_at BETWEEN %s AND %s "
                              "AND buyer_org_id = ANY(%s::uuid[])", (*window, buyer_org_ids)).fetchone()
        evidenced = conn.execute(
            "SELECT count(DISTINCT subject) FROM evidence_entries WHERE subject = ANY(%s)",
            ([f"order:{order_id}" for order_id in order_ids],)).fetchone()
        negative = _impossible_stock_rows(conn)
        unbalanced = None
        if _table_exists(conn, "journal_postings"):
            row = conn.execute("SELECT count(*) FROM (SELECT entry_id FROM journal_postings GROUP BY entry_id "
                               "HAVING sum(debit) <> sum(credit)) s").fetchone()
            unbalanced = int(row[0]) if row else None
    return RunChecks(
        acknowledged=len(order_ids), acknowledged_stored_once=int(stored_once[0]) if stored_once else 0,
        unacknowledged_stored=(int(of_run[0]) if of_run else 0) - len(set(order_ids)),
        with_evidence=int(evidenced[0]) if evidenced else 0,
        negative_stock_rows=negative, unbalanced_journal_entries=unbalanced,
    )
