"""The sequencer: numbers waiting evidence entries, extends the Merkle tree and signs a checkpoint.

One batch is one transaction: leaf indexes, new tree nodes, the signed checkpoint and the sequencer
state commit together or not at all. Exactly one sequencer works at a time, on any number of hosts:
each batch first takes a transaction-scoped advisory lock and does nothing if another holds it.
It runs as the database owner (the app role cannot write these tables), like the outbox dispatcher.
Each checkpoint is also announced as the outbox event ``ledger.checkpoint_signed`` (in the same
transaction), which anchoring backends such as Fabric consume.
"""

import logging
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, select, text, update
from sqlalchemy.dialects.postgresql import insert

from ledger.checkpoint import sign_checkpoint
from ledger.log_models import SequencerState, SignedCheckpoint
from ledger.merkle import AppendResult, TreeHead, append_leaves
from ledger.models import EvidenceRecord
from ledger.signing import LogSigner
from tradeloom.db import utcnow
from tradeloom.outbox.service import emit_on

log = logging.getLogger(__name__)

SEQUENCER_LOCK = 0x7472_6164_6C65_6467  # "tradledg": the advisory lock id every sequencer contends for
CHECKPOINT_SIGNED = "ledger.checkpoint_signed"
LOG_EVENTS_ORG = uuid.UUID(int=0)  # the log belongs to no organization; outbox rows need one

_STORE_NODES = text(
    "INSERT INTO ledger_tree_nodes (level, index, hash)"
    " SELECT * FROM unnest(CAST(:levels AS smallint[]), CAST(:indexes AS bigint[]), CAST(:hashes AS bytea[]))"
)


@dataclass(frozen=True)
class SequencedBatch:
    """What one batch did: how many entries got leaf indexes, and the checkpoint signed for them."""

    entries: int
    tree_size: int
    root_hash: bytes
    checkpoint: str


def sequence_batch(conn: Connection, log_signer: LogSigner, *, batch_size: int) -> SequencedBatch | None:
    """Sequence up to ``batch_size`` waiting entries (oldest id first) in the caller's transaction.

    Returns None when another sequencer holds the lock or nothing is waiting.
    """
    if not conn.scalar(select(func.pg_try_advisory_xact_lock(SEQUENCER_LOCK))):
        return None
    tree_size, frontier = _load_state(conn)
    leaf_hashes = _number_waiting_entries(conn, tree_size, batch_size)
    if not leaf_hashes:
        return None
    appended = append_leaves(tree_size, frontier, leaf_hashes)
    _store_nodes(conn, appended)
    note = _sign_checkpoint(conn, log_signer, appended.tree_head)
    _save_state(conn, appended)
    return SequencedBatch(len(leaf_hashes), appended.tree_head.tree_size, appended.tree_head.root_hash, note)


def _load_state(conn: Connection) -> tuple[int, list[bytes]]:
    row = conn.execute(select(SequencerState.tree_size, SequencerState.frontier).with_for_update()).one_or_none()
    return (0, []) if row is None else (row.tree_size, list(row.frontier))


def _number_waiting_entries(conn: Connection, tree_size: int, batch_size: int) -> list[bytes]:
    """Give the oldest waiting entries consecutive leaf indexes from ``tree_size``; their leaf hashes in order."""
    next_leaf_index = tree_size - 1 + func.row_number().over(order_by=EvidenceRecord.id)
    waiting = (
        select(EvidenceRecord.id, next_leaf_index.label("leaf_index"))
        .where(EvidenceRecord.leaf_index.is_(None))
        .order_by(EvidenceRecord.id)
        .limit(batch_size)
        .subquery()
    )
    numbered = conn.execute(
        update(EvidenceRecord).where(EvidenceRecord.id == waiting.c.id).values(leaf_index=waiting.c.leaf_index)
        .returning(EvidenceRecord.leaf_index, EvidenceRecord.leaf_hash)
    ).all()
    return [row.leaf_hash for row in sorted(numbered, key=lambda row: row.leaf_index)]


def _store_nodes(conn: Connection, appended: AppendResult) -> None:
    """Every completed subtree above the leaves, in one statement (leaves live in evidence_entries)."""
    nodes = [(level, index, value) for (level, index), value in appended.new_nodes.items() if level > 0]
    if nodes:
        levels, indexes, hashes = zip(*nodes, strict=True)
        conn.execute(_STORE_NODES, {"levels": list(levels), "indexes": list(indexes), "hashes": list(hashes)})


def _sign_checkpoint(conn: Connection, log_signer: LogSigner, head: TreeHead) -> str:
    """Sign the new tree head, keep the note in the checkpoint history and announce it for anchoring."""
    note = sign_checkpoint(log_signer.signer, origin=log_signer.origin, tree_size=head.tree_size,
                           root_hash=head.root_hash)
    conn.execute(insert(SignedCheckpoint).values(
        tree_size=head.tree_size, root_hash=head.root_hash, note=note, created_at=utcnow()))
    emit_on(conn, org_id=LOG_EVENTS_ORG, topic=CHECKPOINT_SIGNED, payload={
        "origin": log_signer.origin, "tree_size": head.tree_size, "root_hash": head.root_hash.hex(), "note": note})
    return note


def _save_state(conn: Connection, appended: AppendResult) -> None:
    values = {"tree_size": appended.tree_head.tree_size, "frontier": list(appended.frontier), "updated_at": utcnow()}
    conn.execute(
        insert(SequencerState).values(singleton=True, **values)
        .on_conflict_do_update(index_elements=[SequencerState.singleton], set_=values)
    )


def sequence_waiting(engine: Engine, log_signer: LogSigner, *, batch_size: int) -> list[SequencedBatch]:
    """Sequence batch after batch, one transaction each, until nothing is waiting (or another sequencer runs)."""
    batches: list[SequencedBatch] = []
    while True:
        with engine.begin() as conn:
            batch = sequence_batch(conn, log_signer, batch_size=batch_size)
        if batch is None:
            return batches
        batches.append(batch)


def run_sequencer(engine: Engine, log_signer: LogSigner, *, batch_size: int, poll_seconds: float,
                  stop_after: float | None = None) -> None:
    """Sequence forever (or for ``stop_after`` seconds), sleeping only when a batch came back short."""
    deadline = None if stop_after is None else time.monotonic() + stop_after
    while deadline is None or time.monotonic() < deadline:
        try:
            with engine.begin() as conn:
                batch = sequence_batch(conn, log_signer, batch_size=batch_size)
        except Exception:
            log.exception("ledger: sequencing failed")
            batch = None
        if batch is not None:
            log.info("ledger: sequenced", extra={"entries": batch.entries, "tree_size": batch.tree_size})
        if batch is None or batch.entries < batch_size:
            time.sleep(poll_seconds)
