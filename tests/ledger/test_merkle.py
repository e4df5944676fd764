"""RFC 9162 Merkle tree: published vectors, a from-the-definitions reference, and tampering."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.merkle import (
    EMPTY_ROOT,
    InMemoryNodeStore,
    MissingNodeError,
    NodeAddress,
    ProofError,
    TreeStateError,
    append_leaves,
    consistency_proof,
    frontier_addresses,
    inclusion_proof,
    leaf_hash,
    node_hash,
    plan_consistency_proof,
    plan_inclusion_proof,
    plan_tree_hash,
    root_from_inclusion_proof,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from tests.ledger.merkle_reference import (
    flip_bit,
    hexes,
    numbered_leaves,
    reference_mth,
    reference_path,
    reference_subproof,
    store_of,
)

# The certificate-transparency reference test leaves and the published tree heads for sizes 0..8.
RFC_LEAVES = [
    bytes.fromhex(value)
    for value in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
RFC_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# Published inclusion paths (0-based leaf index, tree size, path).
RFC_INCLUSION_PATHS = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
# Published consistency proofs (old size, new size, proof).
RFC_CONSISTENCY_PROOFS = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


RFC_STORE = store_of(RFC_LEAVES)


class TestHashes:
    def test_leaf_and_node_hashes_are_domain_separated(self) -> None:
        # given / when / then
        assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
        assert node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()

    def test_empty_tree_root_is_sha256_of_nothing(self) -> None:
        assert root_hash([]).hex() == RFC_ROOTS[0]
        assert EMPTY_ROOT.hex() == RFC_ROOTS[0]

    @pytest.mark.parametrize("size", range(9))
    def test_roots_match_published_tree_heads(self, size: int) -> None:
        # given
        leaf_hashes = [leaf_hash(leaf) for leaf in RFC_LEAVES[:size]]
        # when / then
        assert root_hash(leaf_hashes).hex() == RFC_ROOTS[size]
        assert plan_tree_hash(size).fetch(RFC_STORE)[0].hex() == RFC_ROOTS[size]


class TestAppend:
    def test_leaf_by_leaf_appends_give_every_published_root(self) -> None:
        # given
        store = InMemoryNodeStore()
        # when / then
        for size, leaf in enumerate(RFC_LEAVES, start=1):
            assert store.append([leaf_hash(leaf)]).root_hash.hex() == RFC_ROOTS[size]
            assert [store.nodes[address] for address in frontier_addresses(size)] == list(store.frontier)

    @given(sizes=st.lists(st.integers(min_value=0, max_value=40), max_size=6))
    def test_batches_give_the_same_nodes_and_root_as_one_append(self, sizes: list[int]) -> None:
        # given
        leaves = numbered_leaves(sum(sizes))
        batched, whole = InMemoryNodeStore(), store_of(leaves)
        # when
        start = 0
        for size in sizes:
            batched.append(leaf_hash(leaf) for leaf in leaves[start : start + size])
            start += size
        # then
        assert batched.tree_head == whole.tree_head
        assert batched.tree_head.root_hash == reference_mth(leaves)
        assert batched.nodes == whole.nodes

    def test_append_returns_exactly_the_completed_perfect_subtrees(self) -> None:
        # given a tree of 3 leaves: frontier is node (1, 0) and leaf (0, 2)
        leaf_hashes = [leaf_hash(leaf) for leaf in RFC_LEAVES]
        frontier = [node_hash(leaf_hashes[0], leaf_hashes[1]), leaf_hashes[2]]
        # when
        result = append_leaves(3, frontier, leaf_hashes[3:5])
        # then
        assert sorted(result.new_nodes) == [(0, 3), (0, 4), (1, 1), (2, 0)]
        assert result.tree_head.tree_size == 5
        assert result.tree_head.root_hash.hex() == RFC_ROOTS[5]
        assert result.frontier == (RFC_STORE.nodes[(2, 0)], leaf_hashes[4])

    def test_frontier_of_the_wrong_length_is_refused(self) -> None:
        with pytest.raises(TreeStateError, match="a tree of size 3 has 2 frontier hashes, got 1"):
            append_leaves(3, [EMPTY_ROOT], [])

    def test_leaf_hash_of_the_wrong_size_is_refused(self) -> None:
        with pytest.raises(TreeStateError, match="leaf hash at index 0 is 3 bytes"):
            append_leaves(0, [], [b"abc"])


class TestInclusionProof:
    @pytest.mark.parametrize(("leaf_index", "tree_size", "expected"), RFC_INCLUSION_PATHS)
    def test_matches_published_paths(self, leaf_index: int, tree_size: int, expected: list[str]) -> None:
        # when
        proof = inclusion_proof(RFC_STORE, leaf_index, tree_size)
        # then
        assert hexes(proof) == expected
        root = bytes.fromhex(RFC_ROOTS[tree_size])
        verify_inclusion(leaf_hash(RFC_LEAVES[leaf_index]), leaf_index, tree_size, proof, root)

    def test_matches_the_rfc_definition_for_every_leaf_of_small_trees(self) -> None:
        leaves = numbered_leaves(33)
        store = store_of(leaves)
        for tree_size in range(1, 34):
            root = reference_mth(leaves[:tree_size])
            for leaf_index in range(tree_size):
                proof = inclusion_proof(store, leaf_index, tree_size)
                assert proof == reference_path(leaf_index, leaves[:tree_size])
                verify_inclusion(leaf_hash(leaves[leaf_index]), leaf_index, tree_size, proof, root)

    @given(data=st.data(), tree_size=st.integers(min_value=1, max_value=300))
    def test_every_mutation_of_a_valid_proof_fails(self, data: st.DataObject, tree_size: int) -> None:
        # given
        leaves = numbered_leaves(tree_size)
        store = store_of(leaves)
        leaf_index = data.draw(st.integers(min_value=0, max_value=tree_size - 1))
        proof = inclusion_proof(store, leaf_index, tree_size)
        root, leaf = store.tree_head.root_hash, leaf_hash(leaves[leaf_index])
        verify_inclusion(leaf, leaf_index, tree_size, proof, root)
        # when / then
        with pytest.raises(ProofError):
            verify_inclusion(leaf, leaf_index, tree_size, [*proof, root], root)
        wrong_leaf = flip_bit(leaf, data.draw(st.integers(0, 255)))
        with pytest.raises(ProofError):
            verify_inclusion(wrong_leaf, leaf_index, tree_size, proof, root)
        if proof:
            position = data.draw(st.integers(0, len(proof) - 1))
            tampered = [*proof]
            tampered[position] = flip_bit(proof[position], data.draw(st.integers(0, 255)))
            with pytest.raises(ProofError):
                verify_inclusion(leaf, leaf_index, tree_size, tampered, root)
            with pytest.raises(ProofError):
                verify_inclusion(leaf, leaf_index, tree_size, proof[:-1], root)
        other_index = data.draw(st.integers(0, tree_size - 1).filter(lambda index: index != leaf_index))
        with pytest.raises(ProofError):
            verify_inclusion(leaf, other_index, tree_size, proof, root)

    @pytest.mark.parametrize(("leaf_index", "tree_size"), [(0, 0), (8, 8), (-1, 8)])
    def test_leaf_outside_the_tree_is_rejected(self, leaf_index: int, tree_size: int) -> None:
        with pytest.raises(ProofError, match="outside a tree"):
            plan_inclusion_proof(leaf_index, tree_size)
        with pytest.raises(ProofError, match="outside a tree"):
            root_from_inclusion_proof(leaf_hash(b""), leaf_index, tree_size, [])

    def test_wrong_tree_size_is_rejected(self) -> None:
        # given the published path of leaf 5 in the tree of 8
        proof = inclusion_proof(RFC_STORE, 5, 8)
        # when / then
        with pytest.raises(ProofError, match="too long"):
            verify_inclusion(leaf_hash(RFC_LEAVES[5]), 5, 6, proof, bytes.fromhex(RFC_ROOTS[8]))

    def test_element_of_the_wrong_size_is_rejected(self) -> None:
        proof = [*inclusion_proof(RFC_STORE, 0, 8)]
        proof[1] = proof[1][:31]
        with pytest.raises(ProofError, match="inclusion proof element 1 is 31 bytes, expected 32"):
            verify_inclusion(leaf_hash(RFC_LEAVES[0]), 0, 8, proof, bytes.fromhex(RFC_ROOTS[8]))


class TestConsistencyProof:
    @pytest.mark.parametrize(("old_size", "new_size", "expected"), RFC_CONSISTENCY_PROOFS)
    def test_matches_published_proofs(self, old_size: int, new_size: int, expected: list[str]) -> None:
        # when
        proof = consistency_proof(RFC_STORE, old_size, new_size)
        # then
        assert hexes(proof) == expected
        old_root, new_root = bytes.fromhex(RFC_ROOTS[old_size]), bytes.fromhex(RFC_ROOTS[new_size])
        verify_consistency(old_size, new_size, old_root, new_root, proof)

    def test_matches_the_rfc_definition_for_all_small_size_pairs(self) -> None:
        leaves = numbered_leaves(33)
        store = store_of(leaves)
        for new_size in range(1, 34):
            new_root = reference_mth(leaves[:new_size])
            for old_size in range(1, new_size):
                proof = consistency_proof(store, old_size, new_size)
                assert proof == reference_subproof(old_size, leaves[:new_size], True)
                verify_consistency(old_size, new_size, reference_mth(leaves[:old_size]), new_root, proof)

    @given(data=st.data(), new_size=st.integers(min_value=2, max_value=300))
    def test_every_mutation_of_a_valid_proof_fails(self, data: st.DataObject, new_size: int) -> None:
        # given
        leaves = numbered_leaves(new_size)
        store = store_of(leaves)
        old_size = data.draw(st.integers(min_value=1, max_value=new_size - 1))
        proof = consistency_proof(store, old_size, new_size)
        old_root, new_root = reference_mth(leaves[:old_size]), store.tree_head.root_hash
        verify_consistency(old_size, new_size, old_root, new_root, proof)
        position = data.draw(st.integers(0, len(proof) - 1))
        tampered = [*proof]
        tampered[position] = flip_bit(proof[position], data.draw(st.integers(0, 255)))
        # when / then
        for bad in (tampered, proof[:-1], [*proof, new_root], [old_root, *proof]):
            with pytest.raises(ProofError):
                verify_consistency(old_size, new_size, old_root, new_root, bad)
        with pytest.raises(ProofError):
            verify_consistency(old_size, new_size, new_root, old_root, proof)
        other_old = data.draw(st.integers(1, new_size - 1).filter(lambda size: size != old_size))
        with pytest.raises(ProofError):
            verify_consistency(other_old, new_size, old_root, new_root, proof)

    def test_trivial_sizes(self) -> None:
        root = bytes.fromhex(RFC_ROOTS[3])
        verify_consistency(3, 3, root, root, [])
        verify_consistency(0, 3, EMPTY_ROOT, root, [])
        assert plan_consistency_proof(0, 3).ranges == ()
        with pytest.raises(ProofError, match="different roots"):
            verify_consistency(3, 3, root, EMPTY_ROOT, [])
        with pytest.raises(ProofError, match="must be empty"):
            verify_consistency(3, 3, root, root, [root])
        with pytest.raises(ProofError, match="size 0 must have the empty root"):
            verify_consistency(0, 3, root, root, [])
        with pytest.raises(ProofError, match="a log never shrinks"):
            verify_consistency(4, 3, root, root, [root])
        with pytest.raises(ProofError, match="no consistency proof from tree size 4 to 3"):
            plan_consistency_proof(4, 3)
        with pytest.raises(ProofError, match="from size 2 to 3 is empty"):
            verify_consistency(2, 3, bytes.fromhex(RFC_ROOTS[2]), root, [])


class CountingNodes:
    """Answers any address with a made-up hash and records what was asked: shows the lookup pattern."""

    def __init__(self) -> None:
        self.requests: list[list[NodeAddress]] = []

    def read_nodes(self, addresses: Collection[NodeAddress]) -> Mapping[NodeAddress, bytes]:
        self.requests.append(list(addresses))
        return {address: hashlib.sha256(repr(address).encode()).digest() for address in addresses}


class TestLookupCost:
    @pytest.mark.parametrize("leaf_index", [0, 1, 499_999, 524_288, 999_998, 999_999])
    def test_inclusion_proof_at_1m_leaves_needs_one_batch_of_log_n_nodes(self, leaf_index: int) -> None:
        # given
        nodes = CountingNodes()
        # when
        proof = inclusion_proof(nodes, leaf_index, 1_000_000)
        # then
        assert len(nodes.requests) == 1
        assert len(proof) == len(plan_inclusion_proof(leaf_index, 1_000_000).ranges) <= 20
        assert len(nodes.requests[0]) <= 2 * (1_000_000).bit_length()

    @pytest.mark.parametrize("old_size", [1, 2, 999, 524_288, 700_001, 999_999])
    def test_consistency_proof_at_1m_leaves_needs_one_batch_of_log_n_nodes(self, old_size: int) -> None:
        nodes = CountingNodes()
        consistency_proof(nodes, old_size, 1_000_000)
        assert len(nodes.requests) == 1
        assert len(nodes.requests[0]) <= 2 * (1_000_000).bit_length()

    def test_real_store_serves_verifiable_proofs_in_one_read(self) -> None:
        # given a tree too big for the reference implementation to check quickly
        store = store_of(numbered_leaves(70_001))
        root = store.tree_head.root_hash
        for leaf_index in (0, 65_535, 65_536, 70_000):
            # when
            store.read_count = 0
            proof = inclusion_proof(store, leaf_index, 70_001)
            # then
            assert store.read_count == 1
            verify_inclusion(leaf_hash(f"leaf {leaf_index}".encode()), leaf_index, 70_001, proof, root)

    def test_missing_node_is_reported_by_address(self) -> None:
        plan = plan_inclusion_proof(0, 8)
        with pytest.raises(MissingNodeError, match=r"node \(level=2, index=1\) is not in the store"):
            plan.assemble({(0, 1): EMPTY_ROOT, (1, 1): EMPTY_ROOT})
