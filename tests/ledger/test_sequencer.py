"""The sequencer: consecutive leaf indexes, the tree in the database, a signed checkpoint per batch, one at a time."""

import asyncio
import threading

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.checkpoint import parse_and_verify
from ledger.fabric.jobs import anchor_checkpoint
from ledger.log_models import SequencerState, SignedCheckpoint, TreeNode
from ledger.merkle import InMemoryNodeStore
from ledger.models import EvidenceRecord
from ledger.sequencer import CHECKPOINT_SIGNED, run_sequencer, sequence_waiting
from ledger.signing import LogSigner
from tests.ledger.conftest import record_committed, record_orders, sequence
from tradeloom.db import apply_tenant
from tradeloom.outbox.models import OutboxEvent


class TestSequenceBatch:
    async def test_numbers_entries_in_id_order_over_several_batches(
        self, session: AsyncSession, signer: LogSigner
    ) -> None:
        # given 25 waiting entries
        receipts = await record_orders(session, 25)
        # when the sequencer takes at most 10 per batch
        batches = await sequence(session, signer, batch_size=10)
        # then three batches numbered them 0..24 in the order they were recorded
        assert [(b.entries, b.tree_size) for b in batches] == [(10, 10), (10, 20), (5, 25)]
        numbered = (await session.execute(select(EvidenceRecord.id, EvidenceRecord.leaf_index)
                                          .order_by(EvidenceRecord.id))).all()
        assert [(row.id, row.leaf_index) for row in numbered] == [(r.entry_id, i) for i, r in enumerate(receipts)]

    async def test_each_batch_signs_a_checkpoint_over_the_exact_tree(
        self, session: AsyncSession, signer: LogSigner
    ) -> None:
        # given
        receipts = await record_orders(session, 25)
        expected = InMemoryNodeStore()
        # when
        await sequence(session, signer, batch_size=10)
        # then every checkpoint verifies and names the root of the first tree_size leaves
        stored = (await session.scalars(select(SignedCheckpoint).order_by(SignedCheckpoint.tree_size))).all()
        for checkpoint, (begin, end) in zip(stored, [(0, 10), (10, 20), (20, 25)], strict=True):
            head = expected.append(bytes.fromhex(r.leaf_hash_hex) for r in receipts[begin:end])
            signed = parse_and_verify(checkpoint.note, signer.verifier_key, expected_origin=signer.origin)
            assert (signed.tree_size, signed.root_hash) == (checkpoint.tree_size, checkpoint.root_hash)
            assert (signed.tree_size, signed.root_hash) == (head.tree_size, head.root_hash)
        # and the stored nodes above the leaves are exactly the tree's
        nodes = (await session.execute(select(TreeNode.level, TreeNode.index, TreeNode.hash))).all()
        assert {(n.level, n.index): n.hash for n in nodes} == {
            address: value for address, value in expected.nodes.items() if address[0] > 0}
        state = (await session.execute(select(SequencerState.tree_size, SequencerState.frontier))).one()
        assert (state.tree_size, tuple(state.frontier)) == (25, expected.frontier)

    async def test_each_checkpoint_is_announced_for_anchoring(self, session: AsyncSession, signer: LogSigner) -> None:
        # given
        await record_orders(session, 7)
        # when
        [batch] = await sequence(session, signer)
        # then the outbox holds the event the Fabric anchoring job takes, in the same transaction
        event = (await session.scalars(select(OutboxEvent).where(OutboxEvent.topic == CHECKPOINT_SIGNED))).one()
        assert event.payload == {"origin": signer.origin, "tree_size": 7, "root_hash": batch.root_hash.hex(),
                                 "note": batch.checkpoint}
        receipt = anchor_checkpoint({"id": event.id, "topic": event.topic, "payload": event.payload})
        assert (receipt["status"], receipt["tree_size"]) == ("not_anchored", 7)  # no backend configured in tests

    async def test_with_nothing_waiting_nothing_is_signed(self, session: AsyncSession, signer: LogSigner) -> None:
        await record_orders(session, 3)
        await sequence(session, signer)
        # when it runs again with nothing new
        assert await sequence(session, signer) == []
        # then no second checkpoint appears
        assert await session.scalar(select(func.count()).select_from(SignedCheckpoint)) == 1

    async def test_entries_recorded_later_extend_the_same_tree(self, session: AsyncSession, signer: LogSigner) -> None:
        first = await record_orders(session, 5)
        await sequence(session, signer)
        later = await record_orders(session, 4, first=5)
        await sequence(session, signer)
        old, new = (await session.scalars(select(SignedCheckpoint).order_by(SignedCheckpoint.tree_size))).all()
        expected = InMemoryNodeStore()
        expected.append(bytes.fromhex(r.leaf_hash_hex) for r in first + later)
        assert (old.tree_size, new.tree_size, new.root_hash) == (5, 9, expected.tree_head.root_hash)


class TestConcurrentSequencers:
    def test_several_sequencers_at_once_leave_no_gap_and_no_duplicate(
        self, owner_engine: Engine, database_url: str, signer: LogSigner
    ) -> None:
        # given 600 waiting entries, and 150 more arriving while four sequencers race
        asyncio.run(record_committed(database_url, 600))
        arrivals = threading.Thread(target=lambda: asyncio.run(record_committed(database_url, 150, first=600)))
        racers = [threading.Thread(target=_sequence_until, args=(owner_engine, signer, 750)) for _ in range(4)]
        # when
        for thread in (arrivals, *racers):
            thread.start()
        for thread in (arrivals, *racers):
            thread.join(timeout=60)
        # then every entry has exactly one leaf index, 0..749 with no gap
        with owner_engine.connect() as conn:
            indexes = conn.scalars(select(EvidenceRecord.leaf_index).order_by(EvidenceRecord.leaf_index)).all()
            checkpoints = conn.execute(select(SignedCheckpoint.tree_size, SignedCheckpoint.root_hash)
                                       .order_by(SignedCheckpoint.tree_size)).all()
            leaf_hashes = conn.scalars(select(EvidenceRecord.leaf_hash).order_by(EvidenceRecord.leaf_index)).all()
        assert indexes == list(range(750))
        # and the last checkpoint signs the tree of all 750 leaves in that order
        expected = InMemoryNodeStore()
        expected.append(leaf_hashes)
        assert checkpoints[-1] == (750, expected.tree_head.root_hash)
        assert len({size for size, _ in checkpoints}) == len(checkpoints)


    def test_the_worker_loop_sequences_what_arrives(
        self, owner_engine: Engine, database_url: str, signer: LogSigner
    ) -> None:
        # given 10 committed entries
        asyncio.run(record_committed(database_url, 10))
        # when the loop that `tradeloom worker` runs in a thread works for a moment
        run_sequencer(owner_engine, signer, batch_size=4, poll_seconds=0.05, stop_after=0.5)
        # then all ten are in the log, in batches of at most four
        with owner_engine.connect() as conn:
            sizes = conn.scalars(select(SignedCheckpoint.tree_size).order_by(SignedCheckpoint.tree_size)).all()
        assert sizes == [4, 8, 10]


def _sequence_until(engine: Engine, signer: LogSigner, total: int) -> None:
    """A sequencer process in miniature: keep trying (the lock lets one through at a time) until all are in."""
    while True:
        sequence_waiting(engine, signer, batch_size=40)
        with engine.connect() as conn:
            if conn.scalar(select(SequencerState.tree_size)) == total:
                return


async def test_the_app_role_can_read_but_not_write_the_log(session: AsyncSession, signer: LogSigner) -> None:
    # given a sequenced log
    await record_orders(session, 3)
    await sequence(session, signer)
    await apply_tenant(session, org_id=None)
    # then the app role reads every log table
    for table in ("ledger_tree_nodes", "ledger_checkpoints", "ledger_sequencer_state", "ledger_leaves"):
        assert await session.scalar(text(f"SELECT count(*) FROM {table}")) > 0
    # and may change none of them
    for statement in ("UPDATE ledger_tree_nodes SET hash = '\\x00'", "DELETE FROM ledger_checkpoints",
                      "INSERT INTO ledger_sequencer_state VALUES (true, 0, '{}', now())",
                      "UPDATE evidence_entries SET leaf_index = 99"):
        with pytest.raises(DBAPIError, match="permission denied"):
            async with session.begin_nested():
                await session.execute(text(statement))
