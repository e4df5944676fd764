"""RFC 9162 transcribed directly over a leaf list (§2.1.1, §2.1.3.1, §2.1.4.1): the yardstick for ledger.merkle."""

from __future__ import annotations

import hashlib

from ledger.merkle import InMemoryNodeStore, leaf_hash


def _split(size: int) -> int:
    k = 1
    while k * 2 < size:
        k *= 2
    return k


def reference_mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = _split(len(leaves))
    return hashlib.sha256(b"\x01" + reference_mth(leaves[:k]) + reference_mth(leaves[k:])).digest()


def reference_path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if m < k:
        return [*reference_path(m, leaves[:k]), reference_mth(leaves[k:])]
    return [*reference_path(m - k, leaves[k:]), reference_mth(leaves[:k])]


def reference_subproof(m: int, leaves: list[bytes], whole_old_tree: bool) -> list[bytes]:
    if m == len(leaves):
        return [] if whole_old_tree else [reference_mth(leaves)]
    k = _split(len(leaves))
    if m <= k:
        return [*reference_subproof(m, leaves[:k], whole_old_tree), reference_mth(leaves[k:])]
    return [*reference_subproof(m - k, leaves[k:], False), reference_mth(leaves[:k])]


def numbered_leaves(count: int) -> list[bytes]:
    return [f"leaf {number}".encode() for number in range(count)]


def store_of(leaves: list[bytes]) -> InMemoryNodeStore:
    store = InMemoryNodeStore()
    store.append(leaf_hash(leaf) for leaf in leaves)
    return store


def hexes(proof: list[bytes]) -> list[str]:
    return [element.hex() for element in proof]


def flip_bit(value: bytes, bit: int) -> bytes:
    return value[: bit // 8] + bytes([value[bit // 8] ^ (1 << bit % 8)]) + value[bit // 8 + 1 :]


