"""Statements shared by the API's read service and the audit: the one query that fetches proof nodes."""

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import CompoundSelect, literal, select, tuple_, union_all

from ledger.log_models import TreeNode, ledger_leaves
from ledger.merkle import NodeAddress


def node_hashes_query(addresses: Collection[NodeAddress]) -> CompoundSelect:
    """``(level, index, hash)`` of the requested nodes: leaves from ``ledger_leaves``, the rest from the tree."""
    leaf_indexes = [index for level, index in addresses if level == 0]
    inner_nodes = [(level, index) for level, index in addresses if level > 0]
    leaves = select(
        literal(0).label("level"), ledger_leaves.c.leaf_index.label("index"), ledger_leaves.c.leaf_hash.label("hash")
    ).where(ledger_leaves.c.leaf_index.in_(leaf_indexes))
    nodes = select(TreeNode.level, TreeNode.index, TreeNode.hash).where(
        tuple_(TreeNode.level, TreeNode.index).in_(inner_nodes)
    )
    return union_all(leaves, nodes)


def node_map(rows: Iterable[Any]) -> Mapping[NodeAddress, bytes]:
    """The rows of :func:`node_hashes_query` as the mapping ``ProofPlan.assemble`` takes."""
    return {(row.level, row.index): row.hash for row in rows}
