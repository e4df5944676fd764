"""The evidence bundle: one self-contained JSON document that proves an entry is in the log.

It carries everything an offline verifier needs: the entry's exact leaf data, its inclusion proof, the
signed checkpoint the proof leads to and the log's public key; optionally the salt of a file digest,
a consistency proof to a newer checkpoint, and a reference to an external anchor (e.g. a Fabric tx id).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, NonNegativeInt, PositiveInt, StringConstraints

BUNDLE_FORMAT: Final = "tradeloom-evidence-bundle/v1"

HexHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
HexSalt = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]


def _check_base64(value: str) -> str:
    try:
        decoded = base64.b64decode(value, validate=True)
    except binascii.Error as error:
        raise ValueError(f"not standard base64: {error}") from error  # pydantic reports it as a field error
    if base64.b64encode(decoded).decode() != value:
        raise ValueError("not canonical standard base64")
    return value


Base64Data = Annotated[str, AfterValidator(_check_base64)]


class NewerCheckpoint(BaseModel):
    """A later checkpoint of the same log and the proof that the bundle's tree is a prefix of it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    checkpoint: str
    consistency_proof: list[HexHash]

    def proof_hashes(self) -> list[bytes]:
        return [bytes.fromhex(element) for element in self.consistency_proof]


class EvidenceBundle(BaseModel):
    """Proof of one evidence entry, verifiable with no server and no database."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["tradeloom-evidence-bundle/v1"] = BUNDLE_FORMAT
    entry: Base64Data
    """The entry's canonical JSON (the exact leaf data), base64-encoded so not one byte can shift."""
    leaf_index: NonNegativeInt
    tree_size: PositiveInt
    inclusion_proof: list[HexHash]
    checkpoint: str
    """The signed note (C2SP checkpoint) for ``tree_size``."""
    log_key: str
    """The log's verifier key, ``<name>+<hex key id>+<base64 key>``; pin it from a trusted source."""
    file_salt: HexSalt | None = None
    newer_checkpoint: NewerCheckpoint | None = None
    anchor: dict[str, Any] | None = None

    @classmethod
    def assemble(
        cls,
        *,
        entry_data: bytes,
        leaf_index: int,
        tree_size: int,
        inclusion_proof: Sequence[bytes],
        checkpoint: str,
        log_key: str,
        file_salt: bytes | None = None,
        newer_checkpoint: NewerCheckpoint | None = None,
        anchor: dict[str, Any] | None = None,
    ) -> EvidenceBundle:
        """Build a bundle from raw bytes as the log holds them."""
        return cls(
            entry=base64.b64encode(entry_data).decode(),
            leaf_index=leaf_index,
            tree_size=tree_size,
            inclusion_proof=[element.hex() for element in inclusion_proof],
            checkpoint=checkpoint,
            log_key=log_key,
            file_salt=None if file_salt is None else file_salt.hex(),
            newer_checkpoint=newer_checkpoint,
            anchor=anchor,
        )

    def entry_data(self) -> bytes:
        return base64.b64decode(self.entry)

    def proof_hashes(self) -> list[bytes]:
        return [bytes.fromhex(element) for element in self.inclusion_proof]

    def file_salt_bytes(self) -> bytes | None:
        return None if self.file_salt is None else bytes.fromhex(self.file_salt)

    def to_json(self) -> str:
        """The bundle document as written to disk or sent to a customer."""
        return self.model_dump_json(indent=2, exclude_none=True)
