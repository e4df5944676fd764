"""Anchoring the evidence log's signed checkpoints on an external multi-party ledger.

Our RFC 9162 log in PostgreSQL is the evidence log; an anchor copies each signed checkpoint (origin, tree
size, root hash, note) to a ledger that other organizations endorse, so that rewriting our history would
also need them. ``anchor_backend`` picks the implementation from ``ledger_anchor_backend``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from ledger.fabric.gateway import FabricGateway, gateway_from_settings
from tradeloom.settings import Settings


class AnchorStatus(StrEnum):
    """What anchoring did with a checkpoint."""

    ANCHORED = "anchored"  # a new transaction recorded it
    ALREADY_ANCHORED = "already_anchored"  # an earlier transaction had recorded exactly it
    SUPERSEDED = "superseded"  # a larger tree of the same log is anchored; it proves this one by consistency
    NOT_ANCHORED = "not_anchored"  # no anchoring backend is configured


@dataclass(frozen=True)
class AnchorReceipt:
    """Where a checkpoint is anchored: the backend, its transaction and block, and the tree size it holds."""

    backend: str
    status: AnchorStatus
    tree_size: int
    tx_id: str | None = None
    block_number: int | None = None
    anchored_at: dt.datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"backend": self.backend, "status": self.status.value, "tree_size": self.tree_size,
                "tx_id": self.tx_id, "block_number": self.block_number,
                "anchored_at": self.anchored_at.isoformat() if self.anchored_at else None}


class AnchorConflict(Exception):
    """The ledger holds a different root for this log and size: one of the two histories is forged."""


class CheckpointAnchor(Protocol):
    """Something that anchors signed checkpoints; ``anchor`` is idempotent per (origin, tree size)."""

    def anchor(self, origin: str, tree_size: int, root_hash: bytes, note: str) -> AnchorReceipt: ...

    def close(self) -> None: ...


class NullAnchor:
    """The default: checkpoints stay in our own log only."""

    def anchor(self, origin: str, tree_size: int, root_hash: bytes, note: str) -> AnchorReceipt:
        return AnchorReceipt(backend="none", status=AnchorStatus.NOT_ANCHORED, tree_size=tree_size)

    def close(self) -> None:
        """Nothing to release."""


def _record(payload: bytes) -> dict[str, Any] | None:
    """A chaincode anchor record (JSON), or None for the empty result the chaincode gives for 'none'."""
    return json.loads(payload) if payload else None


class FabricAnchor:
    """Anchors checkpoints with the ``CheckpointAnchors`` chaincode through a Fabric Gateway."""

    backend = "fabric"

    def __init__(self, gateway: FabricGateway) -> None:
        self._gateway = gateway

    def anchor(self, origin: str, tree_size: int, root_hash: bytes, note: str) -> AnchorReceipt:
        """Submit the checkpoint unless the channel already holds it or a larger tree of the same log.

        Looking first keeps retries (and a commit that timed out but went through) from sending a second
        transaction that the chaincode would refuse.
        """
        root_b64 = base64.b64encode(root_hash).decode()
        existing = _record(self._gateway.evaluate("GetAnchor", origin, str(tree_size)))
        if existing is not None:
            return self._existing(existing, root_b64)
        latest = _record(self._gateway.evaluate("GetLatest", origin))
        if latest is not None and int(latest["treeSize"]) > tree_size:
            return self._receipt(latest, AnchorStatus.SUPERSEDED)
        result = self._gateway.submit("AnchorCheckpoint", origin, str(tree_size), root_b64, note)
        record = json.loads(result.result)  # AnchorCheckpoint returns the record it stored
        return self._receipt(record, AnchorStatus.ANCHORED, block_number=result.block_number,
                             tx_id=result.transaction_id)

    def _existing(self, record: dict[str, Any], root_b64: str) -> AnchorReceipt:
        if record["rootHash"] != root_b64:
            raise AnchorConflict(f"{record['origin']} is anchored at size {record['treeSize']} with root "
                                 f"{record['rootHash']} (tx {record['txId']}), but our checkpoint has {root_b64}")
        return self._receipt(record, AnchorStatus.ALREADY_ANCHORED)

    def _receipt(self, record: dict[str, Any], status: AnchorStatus, *, block_number: int | None = None,
                 tx_id: str | None = None) -> AnchorReceipt:
        return AnchorReceipt(
            backend=self.backend, status=status, tree_size=int(record["treeSize"]),
            tx_id=tx_id or record["txId"], block_number=block_number,
            anchored_at=dt.datetime.fromisoformat(record["anchoredAt"]),
        )

    def close(self) -> None:
        self._gateway.close()


def anchor_backend(settings: Settings) -> CheckpointAnchor:
    """The anchor chosen by ``ledger_anchor_backend`` (``none`` or ``fabric``)."""
    if settings.ledger_anchor_backend == "fabric":
        return FabricAnchor(gateway_from_settings(settings))
    return NullAnchor()
