"""RFC 9162 (Certificate Transparency v2) Merkle tree: hashing, appends, inclusion and consistency proofs.

Storage model. A log stores the hashes of *perfect* subtrees, addressed by ``(level, index)``: node
``(level, index)`` covers leaves ``[index * 2**level, (index + 1) * 2**level)``; level 0 holds the leaf
hashes. A perfect subtree never changes once its last leaf is appended, so these rows are append-only.

Every subtree hash MTH(D[a:b]) that the RFC 9162 proof algorithms ask for starts at a multiple of
the smallest power of two that is >= b - a (the RFC always splits at the largest power of two below n),
so it is the right fold of the perfect subtrees given by the binary digits of b - a. A proof therefore
needs O(log n) stored nodes, which a database can fetch in one query:

    plan = plan_inclusion_proof(leaf_index, tree_size)
    node_hashes = <SELECT hash FROM nodes WHERE (level, index) IN plan.node_addresses()>
    inclusion_proof = plan.assemble(node_hashes)
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeAddress: TypeAlias = tuple[int, int]
"""``(level, index)`` of a perfect subtree."""

LeafRange: TypeAlias = tuple[int, int]
"""Half-open leaf range ``[begin, end)`` of a subtree."""


class ProofError(Exception):
    """A Merkle proof does not verify, or cannot be built for the given sizes."""


class TreeStateError(Exception):
    """The tree size, frontier or leaf hashes handed to an append do not describe a valid tree."""


class MissingNodeError(LookupError):
    """The node store lacks a perfect-subtree hash a proof or append needs."""

    def __init__(self, address: NodeAddress) -> None:
        super().__init__(f"node (level={address[0]}, index={address[1]}) is not in the store")
        self.address = address


class NodeReader(Protocol):
    """Read access to stored perfect-subtree hashes; one call per proof, so one database query."""

    def read_nodes(self, addresses: Collection[NodeAddress]) -> Mapping[NodeAddress, bytes]:
        """Return the stored hash of every requested address (absent ones are simply left out)."""
        ...


def leaf_hash(leaf_data: bytes) -> bytes:
    """RFC 9162 §2.1.1: HASH(0x00 || leaf data)."""
    return hashlib.sha256(LEAF_PREFIX + leaf_data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: HASH(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split_point(size: int) -> int:
    """The largest power of two strictly smaller than ``size`` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def perfect_subtrees(begin: int, end: int) -> list[NodeAddress]:
    """Addresses of the perfect subtrees that make up the RFC subtree D[begin:end], left to right."""
    addresses: list[NodeAddress] = []
    position = begin
    for level in reversed(range((end - begin).bit_length())):
        if (end - begin) >> level & 1:
            addresses.append((level, position >> level))
            position += 1 << level
    return addresses


def frontier_addresses(tree_size: int) -> list[NodeAddress]:
    """The right edge ("frontier") of a tree: its perfect subtrees, largest first."""
    return perfect_subtrees(0, tree_size)


def fold_subtrees(subtree_hashes: Sequence[bytes]) -> bytes:
    """Combine perfect-subtree hashes (left to right) into the RFC subtree hash they make up."""
    if not subtree_hashes:
        return EMPTY_ROOT
    combined = subtree_hashes[-1]
    for left in reversed(subtree_hashes[:-1]):
        combined = node_hash(left, combined)
    return combined


@dataclass(frozen=True)
class ProofPlan:
    """The RFC subtrees a proof consists of, in proof order, and how to build it from stored nodes."""

    ranges: tuple[LeafRange, ...]

    def node_addresses(self) -> list[NodeAddress]:
        """Every stored node the proof needs (fetch them in one batch)."""
        return [address for begin, end in self.ranges for address in perfect_subtrees(begin, end)]

    def assemble(self, node_hashes: Mapping[NodeAddress, bytes]) -> list[bytes]:
        """Build the proof from the fetched node hashes; raises MissingNodeError if one is absent."""
        return [self._subtree_hash(begin, end, node_hashes) for begin, end in self.ranges]

    @staticmethod
    def _subtree_hash(begin: int, end: int, node_hashes: Mapping[NodeAddress, bytes]) -> bytes:
        parts = []
        for address in perfect_subtrees(begin, end):
            if address not in node_hashes:
                raise MissingNodeError(address)
            parts.append(node_hashes[address])
        return fold_subtrees(parts)

    def fetch(self, reader: NodeReader) -> list[bytes]:
        """Build the proof with a single batched read from ``reader``."""
        return self.assemble(reader.read_nodes(self.node_addresses()))


def plan_tree_hash(tree_size: int) -> ProofPlan:
    """The root hash MTH(D[0:tree_size]) as a one-element plan (useful for historical tree heads)."""
    if tree_size < 0:
        raise ProofError(f"tree size must not be negative, got {tree_size}")
    return ProofPlan(((0, tree_size),))


def plan_inclusion_proof(leaf_index: int, tree_size: int) -> ProofPlan:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]) as subtree ranges, leaf side first."""
    if not 0 <= leaf_index < tree_size:
        raise ProofError(f"leaf index {leaf_index} is outside a tree of size {tree_size}")
    siblings: list[LeafRange] = []
    begin, end = 0, tree_size
    while end - begin > 1:
        middle = begin + _split_point(end - begin)
        if leaf_index < middle:
            siblings.append((middle, end))
            end = middle
        else:
            siblings.append((begin, middle))
            begin = middle
    return ProofPlan(tuple(reversed(siblings)))


def plan_consistency_proof(old_size: int, new_size: int) -> ProofPlan:
    """RFC 9162 §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true) as subtree ranges.

    Equal sizes and an empty old tree need no proof, so the plan is empty for them.
    """
    if not 0 <= old_size <= new_size:
        raise ProofError(f"no consistency proof from tree size {old_size} to {new_size}")
    if old_size in (0, new_size):
        return ProofPlan(())
    collected: list[LeafRange] = []
    begin, end, remaining, is_whole_old_tree = 0, new_size, old_size, True
    while remaining != end - begin:
        middle = begin + _split_point(end - begin)
        if remaining <= middle - begin:
            collected.append((middle, end))
            end = middle
        else:
            collected.append((begin, middle))
            remaining -= middle - begin
            begin = middle
            is_whole_old_tree = False
    if not is_whole_old_tree:
        collected.append((begin, end))
    return ProofPlan(tuple(reversed(collected)))


def inclusion_proof(reader: NodeReader, leaf_index: int, tree_size: int) -> list[bytes]:
    """Inclusion proof for ``leaf_index`` in the tree of ``tree_size`` leaves, read from ``reader``."""
    return plan_inclusion_proof(leaf_index, tree_size).fetch(reader)


def consistency_proof(reader: NodeReader, old_size: int, new_size: int) -> list[bytes]:
    """Consistency proof from the tree of ``old_size`` leaves to the one of ``new_size`` leaves."""
    return plan_consistency_proof(old_size, new_size).fetch(reader)


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, expected {HASH_SIZE}")


def root_from_inclusion_proof(
    leaf_hash_value: bytes, leaf_index: int, tree_size: int, proof: Sequence[bytes]
) -> bytes:
    """RFC 9162 §2.1.3.2: the root hash that ``proof`` implies for the leaf, or ProofError."""
    if not 0 <= leaf_index < tree_size:
        raise ProofError(f"leaf index {leaf_index} is outside a tree of size {tree_size}")
    _check_hash(leaf_hash_value, "leaf hash")
    fn, sn = leaf_index, tree_size - 1
    result = leaf_hash_value
    for position, sibling in enumerate(proof):
        _check_hash(sibling, f"inclusion proof element {position}")
        if sn == 0:
            raise ProofError(f"inclusion proof is too long: {len(proof)} elements")
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"inclusion proof is too short: {len(proof)} elements")
    return result


def verify_inclusion(
    leaf_hash_value: bytes, leaf_index: int, tree_size: int, proof: Sequence[bytes], root_hash: bytes
) -> None:
    """Raise ProofError unless ``proof`` shows the leaf at ``leaf_index`` under ``root_hash``."""
    _check_hash(root_hash, "root hash")
    computed = root_from_inclusion_proof(leaf_hash_value, leaf_index, tree_size, proof)
    if computed != root_hash:
        raise ProofError(
            f"inclusion proof leads to root {computed.hex()}, but the tree head says {root_hash.hex()}"
        )


def _verify_trivial_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Sizes that need no proof: equal trees must have equal roots, an empty tree the empty root."""
    if proof:
        raise ProofError(f"consistency proof from size {old_size} to {new_size} must be empty")
    if old_size == 0 and old_root != EMPTY_ROOT:
        raise ProofError("a tree of size 0 must have the empty root (SHA-256 of nothing)")
    if old_size == new_size and old_root != new_root:
        raise ProofError(f"two tree heads of size {old_size} have different roots")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: raise ProofError unless the old tree is a prefix of the new one."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"tree size went from {old_size} to {new_size}: a log never shrinks")
    _check_hash(old_root, "old root hash")
    _check_hash(new_root, "new root hash")
    if old_size in (0, new_size):
        _verify_trivial_consistency(old_size, new_size, old_root, new_root, proof)
        return
    if not proof:
        raise ProofError(f"consistency proof from size {old_size} to {new_size} is empty")
    for position, element in enumerate(proof):
        _check_hash(element, f"consistency proof element {position}")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # the old tree is a perfect subtree: its root starts the path
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    old_result = new_result = path[0]
    for element in path[1:]:
        if sn == 0:
            raise ProofError(f"consistency proof is too long: {len(proof)} elements")
        if fn & 1 or fn == sn:
            old_result = node_hash(element, old_result)
            new_result = node_hash(element, new_result)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            new_result = node_hash(new_result, element)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"consistency proof is too short: {len(proof)} elements")
    if old_result != old_root:
        raise ProofError(f"consistency proof does not lead to the old root {old_root.hex()}")
    if new_result != new_root:
        raise ProofError(f"consistency proof does not lead to the new root {new_root.hex()}")


@dataclass(frozen=True)
class TreeHead:
    """Size and root hash of the tree at one moment."""

    tree_size: int
    root_hash: bytes


@dataclass(frozen=True)
class AppendResult:
    """What appending a batch produced: the new tree head, its frontier, and the nodes to persist."""

    tree_head: TreeHead
    frontier: tuple[bytes, ...]
    new_nodes: dict[NodeAddress, bytes]


def append_leaves(
    tree_size: int, frontier: Sequence[bytes], new_leaf_hashes: Iterable[bytes]
) -> AppendResult:
    """Append leaf hashes to a tree known only by its size and frontier hashes (largest first).

    Costs O(batch + log n) hashes. ``new_nodes`` holds every perfect subtree completed by the batch,
    leaves (level 0) included; the caller persists them and keeps ``frontier`` for the next batch.
    """
    if tree_size < 0:
        raise TreeStateError(f"tree size must not be negative, got {tree_size}")
    edge = frontier_addresses(tree_size)
    if len(frontier) != len(edge):
        raise TreeStateError(
            f"a tree of size {tree_size} has {len(edge)} frontier hashes, got {len(frontier)}"
        )
    stack = [(level, index, value) for (level, index), value in zip(edge, frontier, strict=True)]
    new_nodes: dict[NodeAddress, bytes] = {}
    size = tree_size
    for value in new_leaf_hashes:
        if len(value) != HASH_SIZE:
            raise TreeStateError(f"leaf hash at index {size} is {len(value)} bytes, expected {HASH_SIZE}")
        level, index = 0, size
        new_nodes[(level, index)] = value
        while stack and stack[-1][0] == level:
            _, _, left = stack.pop()
            level, index, value = level + 1, index >> 1, node_hash(left, value)
            new_nodes[(level, index)] = value
        stack.append((level, index, value))
        size += 1
    hashes = tuple(value for _, _, value in stack)
    return AppendResult(TreeHead(size, fold_subtrees(hashes)), hashes, new_nodes)


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a whole list of leaf hashes (the empty list gives the empty root)."""
    return append_leaves(0, (), leaf_hashes).tree_head.root_hash


class InMemoryNodeStore:
    """A NodeReader over a dict, for tests and small offline tools; it counts batched reads."""

    def __init__(self) -> None:
        self.nodes: dict[NodeAddress, bytes] = {}
        self.tree_head = TreeHead(0, EMPTY_ROOT)
        self.frontier: tuple[bytes, ...] = ()
        self.read_count = 0

    def append(self, leaf_hashes: Iterable[bytes]) -> TreeHead:
        """Append a batch of leaf hashes and return the new tree head."""
        result = append_leaves(self.tree_head.tree_size, self.frontier, leaf_hashes)
        self.nodes.update(result.new_nodes)
        self.tree_head, self.frontier = result.tree_head, result.frontier
        return result.tree_head

    def read_nodes(self, addresses: Collection[NodeAddress]) -> Mapping[NodeAddress, bytes]:
        """Return the stored hashes of ``addresses`` that exist."""
        self.read_count += 1
        return {address: self.nodes[address] for address in addresses if address in self.nodes}
