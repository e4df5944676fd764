"""Reading the sequenced log: checkpoints, leaves, RFC 9162 proofs and evidence bundles.

Everything here is public log data (``ledger_*`` tables and the ``ledger_leaves`` view), except
:func:`bundle_for_entry`, which finds the entry by its id through ``evidence_entries`` and so sees only
the caller's own organization's entries (row-level security). A proof for a given tree size costs one query.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.bundle import EvidenceBundle
from ledger.checkpoint import VerifierKey
from ledger.errors import OutsideTheLog
from ledger.files import file_salt
from ledger.log_models import SignedCheckpoint, ledger_leaves
from ledger.log_queries import node_hashes_query, node_map
from ledger.merkle import MissingNodeError, ProofPlan, plan_consistency_proof, plan_inclusion_proof
from ledger.models import EvidenceRecord
from tradeloom.errors import Conflict, NotFound, Unavailable


@dataclass(frozen=True)
class InclusionProof:
    """RFC 9162 inclusion proof: the audit path of ``leaf_index`` in the tree of ``tree_size`` leaves."""

    leaf_index: int
    tree_size: int
    path: list[bytes]


@dataclass(frozen=True)
class ConsistencyProof:
    """RFC 9162 consistency proof from the tree of ``first`` leaves to the one of ``second`` leaves."""

    first: int
    second: int
    path: list[bytes]


def _no_checkpoint_yet() -> NotFound:
    return NotFound("The log has not signed a checkpoint yet.", code="no_checkpoint_yet")


async def latest_checkpoint(session: AsyncSession) -> SignedCheckpoint:
    """The newest signed checkpoint (404 until the first entry has been sequenced)."""
    checkpoint = await _newest_checkpoint(session)
    if checkpoint is None:
        raise _no_checkpoint_yet()
    return checkpoint


async def _newest_checkpoint(session: AsyncSession) -> SignedCheckpoint | None:
    return await session.scalar(select(SignedCheckpoint).order_by(SignedCheckpoint.tree_size.desc()).limit(1))


async def published_size(session: AsyncSession) -> int:
    """The tree size of the latest checkpoint: proofs are served up to it (404 before the first one)."""
    tree_size = await session.scalar(select(func.max(SignedCheckpoint.tree_size)))
    if tree_size is None:
        raise _no_checkpoint_yet()
    return tree_size


async def checkpoint_at(session: AsyncSession, *, tree_size: int) -> SignedCheckpoint:
    """The checkpoint signed at exactly ``tree_size`` leaves."""
    checkpoint = await session.get(SignedCheckpoint, tree_size)
    if checkpoint is None:
        raise NotFound(f"The log signed no checkpoint at tree size {tree_size}.", code="checkpoint_not_found")
    return checkpoint


async def leaf_at(session: AsyncSession, *, leaf_index: int) -> Row:
    """The sequenced entry at ``leaf_index``: its exact leaf data, leaf hash, kind and subject."""
    leaf = (await session.execute(select(ledger_leaves).where(ledger_leaves.c.leaf_index == leaf_index))).first()
    if leaf is None:
        raise NotFound(f"The log has no entry at leaf index {leaf_index}.", code="leaf_not_found")
    return leaf


async def inclusion_proof(session: AsyncSession, *, leaf_index: int, tree_size: int | None = None) -> InclusionProof:
    """The audit path of a leaf in a published tree (the latest checkpoint's when ``tree_size`` is None)."""
    if tree_size is None:
        tree_size = await published_size(session)
    if not 0 <= leaf_index < tree_size:
        raise OutsideTheLog(f"Leaf index {leaf_index} is outside a tree of size {tree_size}.",
                            code="leaf_index_out_of_range")
    path = await _fetch(session, plan_inclusion_proof(leaf_index, tree_size), tree_size)
    return InclusionProof(leaf_index, tree_size, path)


async def consistency_proof(session: AsyncSession, *, first: int, second: int) -> ConsistencyProof:
    """The proof that the tree of ``first`` leaves is a prefix of the published tree of ``second`` leaves."""
    if first > second:
        raise OutsideTheLog(f"Tree size {first} is larger than {second}: a log only grows.",
                            code="tree_sizes_reversed")
    path = await _fetch(session, plan_consistency_proof(first, second), second)
    return ConsistencyProof(first, second, path)


async def bundle_for_entry(session: AsyncSession, *, entry_id: int, log_key: VerifierKey) -> EvidenceBundle:
    """The evidence bundle of one of the caller's entries, by entry id (409 until it is sequenced)."""
    entry = await session.get(EvidenceRecord, entry_id)
    if entry is None:
        raise NotFound(f"Your organization has no evidence entry {entry_id}.", code="evidence_not_found")
    if entry.leaf_index is None:
        raise Conflict(f"Evidence entry {entry_id} is recorded but not sequenced into the log yet; "
                       "try again in a few seconds.", code="not_sequenced_yet", headers={"Retry-After": "5"})
    salt = await file_salt(session, entry_id=entry_id)
    return await _bundle(session, entry_data=entry.entry_data, leaf_index=entry.leaf_index, log_key=log_key,
                         file_salt=salt)


async def bundle_for_leaf(session: AsyncSession, *, leaf_index: int, log_key: VerifierKey) -> EvidenceBundle:
    """The evidence bundle of the sequenced entry at ``leaf_index`` (public: the log is public)."""
    leaf = await leaf_at(session, leaf_index=leaf_index)
    return await _bundle(session, entry_data=leaf.entry_data, leaf_index=leaf_index, log_key=log_key)


async def _bundle(session: AsyncSession, *, entry_data: bytes, leaf_index: int, log_key: VerifierKey,
                  file_salt: bytes | None = None) -> EvidenceBundle:
    checkpoint = await latest_checkpoint(session)
    path = await _fetch(session, plan_inclusion_proof(leaf_index, checkpoint.tree_size), checkpoint.tree_size)
    return _assemble(checkpoint, entry_data=entry_data, leaf_index=leaf_index, path=path, log_key=log_key,
                     file_salt=file_salt)


def _assemble(checkpoint: SignedCheckpoint, *, entry_data: bytes, leaf_index: int, path: list[bytes],
              log_key: VerifierKey, file_salt: bytes | None = None) -> EvidenceBundle:
    return EvidenceBundle.assemble(
        entry_data=entry_data, leaf_index=leaf_index, tree_size=checkpoint.tree_size, inclusion_proof=path,
        checkpoint=checkpoint.note, log_key=str(log_key), file_salt=file_salt,
    )


async def bundles_for_entries(
    session: AsyncSession, *, entry_ids: Sequence[int], log_key: VerifierKey
) -> dict[int, EvidenceBundle]:
    """Public bundles of the sequenced entries among ``entry_ids`` (others are left out), against the latest
    checkpoint: three queries however many entries (checkpoint, leaves, every proof's nodes at once)."""
    checkpoint = await _newest_checkpoint(session)
    if checkpoint is None or not entry_ids:
        return {}
    leaves = (await session.execute(
        select(ledger_leaves.c.entry_id, ledger_leaves.c.leaf_index, ledger_leaves.c.entry_data)
        .where(ledger_leaves.c.entry_id.in_(entry_ids), ledger_leaves.c.leaf_index < checkpoint.tree_size)
    )).all()
    plans = {leaf.entry_id: plan_inclusion_proof(leaf.leaf_index, checkpoint.tree_size) for leaf in leaves}
    addresses = sorted({address for plan in plans.values() for address in plan.node_addresses()})
    nodes = node_map(await session.execute(node_hashes_query(addresses))) if addresses else {}
    try:
        return {leaf.entry_id: _assemble(checkpoint, entry_data=leaf.entry_data, leaf_index=leaf.leaf_index,
                                         path=plans[leaf.entry_id].assemble(nodes), log_key=log_key)
                for leaf in leaves}
    except MissingNodeError as error:
        raise Unavailable(f"The log cannot build a proof: {error}; run `tradeloom ledger audit`.",
                          code="log_node_missing") from error


class LogBundleSource:
    """The evidence log behind the public trace page (``ledger.trace_view.EvidenceBundleSource``)."""

    def __init__(self, log_key: VerifierKey) -> None:
        self._log_key = log_key

    async def bundles_for_entries(
        self, session: AsyncSession, entry_ids: Sequence[int]
    ) -> Mapping[int, EvidenceBundle]:
        """Bundles against the latest checkpoint, by entry id, in one batch; unsequenced entries are left out."""
        return await bundles_for_entries(session, entry_ids=entry_ids, log_key=self._log_key)

    async def log_key(self, session: AsyncSession) -> str:
        """The log's verifier key, which the page pins."""
        return str(self._log_key)


async def _fetch(session: AsyncSession, plan: ProofPlan, tree_size: int) -> list[bytes]:
    """Build a proof for a tree of ``tree_size`` leaves from its nodes, read in one query.

    The sequencer stores a batch's nodes and its checkpoint in one transaction, so every node of a
    published tree exists: a missing one means ``tree_size`` is beyond the log (the caller's mistake,
    checked only then, to keep the usual path at one query) or the storage is damaged.
    """
    addresses = plan.node_addresses()
    if not addresses:  # nothing to read, so nothing would reveal a size beyond the log
        _check_published(tree_size, await published_size(session))
        return []
    rows = await session.execute(node_hashes_query(addresses))
    try:
        return plan.assemble(node_map(rows))
    except MissingNodeError as error:
        _check_published(tree_size, await published_size(session))
        raise Unavailable(f"The log cannot build this proof: {error}; run `tradeloom ledger audit`.",
                          code="log_node_missing") from error


def _check_published(tree_size: int, published: int) -> None:
    if tree_size > published:
        raise OutsideTheLog(f"Tree size {tree_size} is beyond the latest checkpoint ({published} entries).",
                            code="tree_size_out_of_range")
