"""Store and forward: a local SQLite spool of data messages not yet acknowledged by the broker.

Every data message is written here before it is published and deleted when its PUBACK arrives, so a
message is lost neither when the broker is unreachable (it is spooled without being sent) nor when the
connection drops with messages in flight. After the next connect and birth certificates the agent
replays what is left, oldest first, flagged ``is_historical``. A message whose PUBACK was lost with the
connection is sent twice; the host application drops the duplicate (at-least-once delivery).

SQLite is the one store the issue allows at the edge: the agent runs next to the machines, with no
PostgreSQL. One connection, used only from the agent's event loop thread.

Writes (``add``, ``acknowledge``) go into one open transaction that the owner ends with ``commit``: the
edge node commits once per event-loop turn and publishes what it added only after that commit, so a
message is on disk before it leaves, at one commit per burst instead of one per message (a commit in
WAL mode costs about as much as a whole burst of inserts).
"""

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from iot_bridge.sparkplug import DataType, Metric

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spooled (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    metrics TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class SpooledMessage:
    """One DDATA message kept until the broker acknowledged it."""

    id: int
    device_id: str
    timestamp_ms: int
    metrics: tuple[Metric, ...]


class Spool:
    """The SQLite spool file of one edge node (created on first use)."""

    def __init__(self, path: Path | str) -> None:
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # survives a process crash; an OS crash may lose the tail
        self._db.executescript(_SCHEMA)

    def add(self, device_id: str, timestamp_ms: int, metrics: tuple[Metric, ...]) -> int:
        """Keep a message (durable once ``commit`` returns); returns its spool id."""
        self._begin()
        cursor = self._db.execute(
            "INSERT INTO spooled (device_id, timestamp_ms, metrics) VALUES (?, ?, ?)",
            (device_id, timestamp_ms, _metrics_to_json(metrics)),
        )
        return int(cursor.lastrowid or 0)

    def acknowledge(self, *spool_ids: int) -> None:
        """The broker has these messages: forget them (at the next ``commit``)."""
        self._begin()
        self._db.executemany("DELETE FROM spooled WHERE id = ?", [(spool_id,) for spool_id in spool_ids])

    def commit(self) -> None:
        if self._db.in_transaction:
            self._db.execute("COMMIT")

    def _begin(self) -> None:
        if not self._db.in_transaction:
            self._db.execute("BEGIN")

    def pending(self, batch_size: int = 500) -> Iterator[SpooledMessage]:
        """Every kept message, oldest first, read in batches (rows added meanwhile come too)."""
        last_id = 0
        while True:
            rows = self._db.execute(
                "SELECT id, device_id, timestamp_ms, metrics FROM spooled WHERE id > ? ORDER BY id LIMIT ?",
                (last_id, batch_size),
            ).fetchall()
            if not rows:
                return
            for spool_id, device_id, timestamp_ms, metrics in rows:
                last_id = spool_id
                yield SpooledMessage(spool_id, device_id, timestamp_ms, _metrics_from_json(metrics))

    def pending_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM spooled").fetchone()[0])

    def next_bd_seq(self) -> int:
        """The birth/death sequence number of the next MQTT session (0..255, kept across restarts)."""
        row = self._db.execute("SELECT value FROM counters WHERE name = 'bdSeq'").fetchone()
        value = 0 if row is None else (row[0] + 1) % 256
        self._begin()
        self._db.execute("INSERT OR REPLACE INTO counters (name, value) VALUES ('bdSeq', ?)", (value,))
        self.commit()
        return value

    def close(self) -> None:
        self.commit()
        self._db.close()


def _metrics_to_json(metrics: tuple[Metric, ...]) -> str:
    return orjson.dumps([[m.name, int(m.datatype), m.value, m.timestamp] for m in metrics]).decode()


def _metrics_from_json(text: str) -> tuple[Metric, ...]:
    return tuple(
        Metric(name=name, value=value, datatype=DataType(datatype), timestamp=timestamp)
        for name, datatype, value, timestamp in orjson.loads(text)
    )
