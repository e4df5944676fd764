"""Positions in the change feed, handed out after commit by one sequencer at a time.

Event ids come from a sequence at insert time, so a transaction holding id 10 may commit after one holding
id 11; a reader paging by id would skip 10 for good. Instead the sequencer (run by the outbox dispatcher
loop, one at a time through an advisory lock) numbers committed, unnumbered events in one transaction:
readers see a whole batch or none of it, and a late commit simply gets a later position.
"""

from sqlalchemy import Engine, text

FEED_LOCK = 727_002  # pg advisory lock key: one feed sequencer at a time across all hosts
# nextval runs row by row over the already ordered batch, so positions follow id order within a batch.
_ASSIGN = text("""
    UPDATE outbox SET feed_position = numbered.position
    FROM (SELECT batch.id, nextval('outbox_feed_position_seq') AS position
          FROM (SELECT id FROM outbox WHERE feed_position IS NULL ORDER BY id LIMIT :batch_size) AS batch) AS numbered
    WHERE outbox.id = numbered.id
""")


def assign_feed_positions(engine: Engine, *, batch_size: int = 1000) -> int:
    """Number the next batch of committed events; 0 when another sequencer holds the lock or none wait."""
    with engine.begin() as conn:
        if not conn.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": FEED_LOCK}):
            return 0
        return int(conn.execute(_ASSIGN, {"batch_size": batch_size}).rowcount)
