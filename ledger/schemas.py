"""Response bodies of the ledger API (hashes in lowercase hex, leaf data in standard base64)."""

import base64

from pydantic import Field

from ledger.log_service import ConsistencyProof, InclusionProof
from tradeloom.schemas import ApiModel


class LeafOut(ApiModel):
    """One sequenced entry: ``entry`` is the exact leaf data, so ``SHA-256(0x00 || entry) = leaf_hash``."""

    leaf_index: int
    kind: str
    subject: str
    entry: str = Field(description="the canonical JSON entry, base64")
    leaf_hash: str = Field(description="RFC 9162 leaf hash, hex")

    @classmethod
    def of(cls, *, leaf_index: int, kind: str, subject: str, entry_data: bytes, leaf_hash: bytes) -> "LeafOut":
        return cls(leaf_index=leaf_index, kind=kind, subject=subject,
                   entry=base64.b64encode(entry_data).decode(), leaf_hash=leaf_hash.hex())


class InclusionProofOut(ApiModel):
    """RFC 9162 inclusion proof: the audit path, leaf side first."""

    leaf_index: int
    tree_size: int
    inclusion_path: list[str] = Field(description="hex node hashes, in verification order")

    @classmethod
    def of(cls, proof: InclusionProof) -> "InclusionProofOut":
        return cls(leaf_index=proof.leaf_index, tree_size=proof.tree_size,
                   inclusion_path=[node.hex() for node in proof.path])


class ConsistencyProofOut(ApiModel):
    """RFC 9162 consistency proof between two tree sizes."""

    tree_size_1: int
    tree_size_2: int
    consistency_path: list[str] = Field(description="hex node hashes, in verification order")

    @classmethod
    def of(cls, proof: ConsistencyProof) -> "ConsistencyProofOut":
        return cls(tree_size_1=proof.first, tree_size_2=proof.second,
                   consistency_path=[node.hex() for node in proof.path])
