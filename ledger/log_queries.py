"""Statements shared by the API's read service and the audit: the one query that fetches proof nodes."""

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import TextClause, text

from ledger.merkle import NodeAddress

# One fixed statement (compiled once, planned as index lookups): level 0 comes from the public leaf view,
# the nodes above it from the tree table.
_NODE_HASHES = text("""
    SELECT 0 AS level, leaf_index AS index, leaf_hash AS hash
    FROM ledger_leaves WHERE leaf_index = ANY(CAST(:leaf_indexes AS bigint[]))
    UNION ALL
    SELECT node.level, node.index, node.hash
    FROM ledger_tree_nodes AS node
    JOIN unnest(CAST(:levels AS smallint[]), CAST(:indexes AS bigint[])) AS wanted (level, index)
      USING (level, index)
""")


def node_hashes_query(addresses: Collection[NodeAddress]) -> TextClause:
    """``(level, index, hash)`` of the requested nodes: leaves from ``ledger_leaves``, the rest from the tree."""
    inner_nodes = [(level, index) for level, index in addresses if level > 0]
    return _NODE_HASHES.bindparams(
        leaf_indexes=[index for level, index in addresses if level == 0],
        levels=[level for level, _ in inner_nodes],
        indexes=[index for _, index in inner_nodes],
    )


def node_map(rows: Iterable[Any]) -> Mapping[NodeAddress, bytes]:
    """The rows of :func:`node_hashes_query` as the mapping ``ProofPlan.assemble`` takes."""
    return {(row.level, row.index): row.hash for row in rows}
