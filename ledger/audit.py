"""``tradeloom ledger audit``: the monitor that re-derives the log from what the database stores.

It checks, as the owner and trusting nothing it stored itself: every checkpoint's signature (and that its
stored size and root columns say what the signed note says); that every entry's leaf hash is the hash of
its data; that leaf indexes run 0, 1, 2 … without gaps; that every stored tree node equals the node
recomputed from the leaves and that no node lies outside the tree; that each checkpoint's signed root is
the root of the stored leaves at its size; and that each checkpoint is consistent with the previous one,
by an RFC 9162 proof built from the stored nodes (exactly as a client would get it from the API).
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from ledger.checkpoint import Checkpoint, CheckpointError, VerifierKey, parse_and_verify
from ledger.log_models import SequencerState, SignedCheckpoint, TreeNode
from ledger.log_queries import node_hashes_query, node_map
from ledger.merkle import (
    MissingNodeError,
    NodeAddress,
    ProofError,
    append_leaves,
    leaf_hash,
    plan_consistency_proof,
    verify_consistency,
)
from ledger.models import EvidenceRecord

MAX_REPORTED = 20  # per kind of problem; the count of the rest is still reported
CHUNK = 10_000


@dataclass
class AuditReport:
    """What was checked and every problem found, each in words precise enough to investigate."""

    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem_list(self, kind: str, found: Sequence[str]) -> None:
        self.problems.extend(found[:MAX_REPORTED])
        if len(found) > MAX_REPORTED:
            self.problems.append(f"… and {len(found) - MAX_REPORTED} more {kind}")


@dataclass(frozen=True)
class _StoredCheckpoint:
    tree_size: int
    root_hash: bytes
    signed: Checkpoint | None


def audit_log(conn: Connection, verifier_key: VerifierKey, *, origin: str | None = None) -> AuditReport:
    """Audit the whole log; ``origin`` (if given) is the origin every checkpoint must name."""
    report = AuditReport()
    checkpoints = _audit_signatures(conn, verifier_key, origin, report)
    roots = _audit_leaves_and_nodes(conn, {c.tree_size for c in checkpoints if c.signed}, report)
    _audit_roots(checkpoints, roots, report)
    _audit_consistency(conn, [c.signed for c in checkpoints if c.signed], report)
    return report


def _audit_signatures(
    conn: Connection, key: VerifierKey, origin: str | None, report: AuditReport
) -> list[_StoredCheckpoint]:
    rows = conn.execute(select(SignedCheckpoint).order_by(SignedCheckpoint.tree_size)).all()
    checkpoints, problems = [], []
    for row in rows:
        signed: Checkpoint | None = None
        try:
            signed = parse_and_verify(row.note, key, expected_origin=origin)
        except CheckpointError as error:
            problems.append(f"checkpoint at tree size {row.tree_size}: {error}")
        if signed is not None and (signed.tree_size, signed.root_hash) != (row.tree_size, row.root_hash):
            problems.append(f"checkpoint at tree size {row.tree_size}: stored columns say size {row.tree_size}, "
                            f"root {row.root_hash.hex()}; the signed note says size {signed.tree_size}, "
                            f"root {signed.root_hash.hex()}")
            signed = None
        checkpoints.append(_StoredCheckpoint(row.tree_size, row.root_hash, signed))
    report.problem_list("checkpoint problems", problems)
    report.checked.append(f"{len(rows)} checkpoint signature(s) by {key.name}+{key.key_id.hex()}")
    return checkpoints


def _entry_rows(conn: Connection) -> Iterator[Sequence[Any]]:
    """Every entry, sequenced ones first in leaf order, in chunks (a server-side cursor, not all in memory)."""
    result = conn.execute(
        select(EvidenceRecord.id, EvidenceRecord.leaf_index, EvidenceRecord.entry_data, EvidenceRecord.leaf_hash)
        .order_by(EvidenceRecord.leaf_index.asc().nulls_last(), EvidenceRecord.id),
        execution_options={"stream_results": True, "max_row_buffer": CHUNK},
    )
    yield from result.partitions(CHUNK)


def _audit_leaves_and_nodes(conn: Connection, sizes: set[int], report: AuditReport) -> dict[int, bytes]:
    """One pass over the entries: leaf hashes, gaps, stored nodes; returns the recomputed root at ``sizes``."""
    tree_size = 0
    frontier: tuple[bytes, ...] = ()
    roots: dict[int, bytes] = {}
    bad_entries: list[str] = []
    bad_nodes: list[str] = []
    entry_count, gap_found = 0, False
    for rows in _entry_rows(conn):
        entry_count += len(rows)
        bad_entries += [_entry_problem(row) for row in rows if leaf_hash(row.entry_data) != row.leaf_hash]
        leaves = [row for row in rows if row.leaf_index is not None]
        gap = next((row for position, row in enumerate(leaves) if row.leaf_index != tree_size + position), None)
        if gap is not None and not gap_found:
            gap_found = True
            bad_entries.append(f"leaf indexes are not consecutive: entry id {gap.id} has leaf index "
                               f"{gap.leaf_index} where {tree_size + leaves.index(gap)} was expected")
        if gap_found:
            continue  # the tree cannot be rebuilt past a gap; the entries are still checked
        for run in _split_at(leaves, sizes):
            appended = append_leaves(tree_size, frontier, [row.leaf_hash for row in run])
            bad_nodes += _node_problems(conn, appended.new_nodes)
            tree_size, frontier = appended.tree_head.tree_size, appended.frontier
            roots[tree_size] = appended.tree_head.root_hash
    bad_nodes += _stray_nodes(conn, tree_size)
    report.problem_list("entry problems", bad_entries)
    report.problem_list("node problems", bad_nodes)
    if not gap_found:
        _audit_state(conn, tree_size, frontier, report)
    report.checked.append(f"{entry_count} entries' leaf hashes; {tree_size} sequenced leaves rebuilt into the tree")
    return roots


def _entry_problem(row: Any) -> str:
    where = "unsequenced" if row.leaf_index is None else f"leaf index {row.leaf_index}"
    return (f"entry id {row.id} ({where}): stored leaf hash {row.leaf_hash.hex()}, "
            f"but its data hashes to {leaf_hash(row.entry_data).hex()}")


def _split_at(leaves: Sequence[Any], sizes: set[int]) -> list[list[Any]]:
    """Consecutive leaves cut after every checkpoint size, so the root at each checkpoint is seen."""
    runs: list[list[Any]] = [[]]
    for row in leaves:
        runs[-1].append(row)
        if row.leaf_index + 1 in sizes:
            runs.append([])
    return [run for run in runs if run]


def _node_problems(conn: Connection, recomputed: dict[NodeAddress, bytes]) -> list[str]:
    """Compare the nodes a run of leaves completed with the stored ones (one range query per level)."""
    ranges: dict[int, tuple[int, int]] = {}
    for level, index in recomputed:
        if level > 0:
            low, high = ranges.get(level, (index, index))
            ranges[level] = (min(low, index), max(high, index))
    if not ranges:
        return []
    stored = node_map(conn.execute(select(TreeNode.level, TreeNode.index, TreeNode.hash).where(
        or_(*(and_(TreeNode.level == level, TreeNode.index.between(low, high))
              for level, (low, high) in ranges.items())))))
    problems = []
    for address, value in recomputed.items():
        if address[0] == 0 or stored.get(address) == value:
            continue
        found = stored.get(address)
        what = "is missing" if found is None else f"is stored as {found.hex()}"
        problems.append(f"tree node (level {address[0]}, index {address[1]}) {what}; "
                        f"the leaves give {value.hex()}")
    return problems


def _stray_nodes(conn: Connection, tree_size: int) -> list[str]:
    """Stored nodes that cover leaves the log does not have."""
    beyond = (TreeNode.index + 1).op("<<")(TreeNode.level) > tree_size
    rows = conn.execute(select(TreeNode.level, TreeNode.index).where(beyond).order_by(TreeNode.level, TreeNode.index))
    return [f"tree node (level {row.level}, index {row.index}) lies beyond the {tree_size} sequenced leaves"
            for row in rows]


def _audit_state(conn: Connection, tree_size: int, frontier: Sequence[bytes], report: AuditReport) -> None:
    state = conn.execute(select(SequencerState.tree_size, SequencerState.frontier)).one_or_none()
    stored = (0, []) if state is None else (state.tree_size, list(state.frontier))
    if stored != (tree_size, list(frontier)):
        report.problems.append(f"sequencer state says tree size {stored[0]} with frontier "
                               f"{[value.hex() for value in stored[1]]}; the leaves give size {tree_size} "
                               f"with frontier {[value.hex() for value in frontier]}")


def _audit_roots(checkpoints: Sequence[_StoredCheckpoint], roots: dict[int, bytes], report: AuditReport) -> None:
    problems = []
    for checkpoint in checkpoints:
        if checkpoint.signed is None:
            continue
        rebuilt = roots.get(checkpoint.tree_size)
        if rebuilt is None:
            problems.append(f"checkpoint at tree size {checkpoint.tree_size}: the log does not hold that many "
                            "consecutive leaves")
        elif rebuilt != checkpoint.signed.root_hash:
            problems.append(f"checkpoint at tree size {checkpoint.tree_size}: signed root "
                            f"{checkpoint.signed.root_hash.hex()}, but the stored leaves give {rebuilt.hex()}")
    report.problem_list("root problems", problems)
    report.checked.append(f"signed roots against the stored leaves at {len(checkpoints)} checkpoint(s)")


def _audit_consistency(conn: Connection, checkpoints: Sequence[Checkpoint], report: AuditReport) -> None:
    """Each signed checkpoint extends the previous one: an RFC 9162 proof from the stored nodes."""
    problems = []
    for old, new in pairwise(checkpoints):
        plan = plan_consistency_proof(old.tree_size, new.tree_size)
        try:
            proof = plan.assemble(node_map(conn.execute(node_hashes_query(plan.node_addresses()))))
            verify_consistency(old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof)
        except (MissingNodeError, ProofError) as error:
            problems.append(f"checkpoints at tree sizes {old.tree_size} → {new.tree_size} are not consistent: {error}")
    report.problem_list("consistency problems", problems)
    report.checked.append(f"consistency between {max(len(checkpoints) - 1, 0)} pair(s) of consecutive checkpoints")
