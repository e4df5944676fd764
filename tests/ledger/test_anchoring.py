"""Anchoring signed checkpoints: the backend choice, FabricAnchor's idempotence and the RQ job, end to end
through the Fabric Gateway client and a local Gateway server whose chaincode model answers like
CheckpointAnchors (the chaincode itself is tested by ``npm test`` in ledger/fabric/chaincode)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.anchoring import AnchorConflict, AnchorStatus, NullAnchor, anchor_backend
from ledger.checkpoint import make_signer, sign_checkpoint
from ledger.fabric import jobs
from ledger.fabric.jobs import InvalidCheckpointEvent, anchor_checkpoint
from tests.ledger.fabric_gateway_double import (
    CHAINCODE,
    CHANNEL,
    MSP_ID,
    ChaincodeRefusal,
    GatewayDouble,
    Invocation,
)
from tests.ledger.fabric_pki import ThrowawayCA, key_pem
from tradeloom.settings import Settings

ORIGIN = "tradeloom.test/evidence"
ANCHORED_AT = "2026-01-02T03:04:06.000Z"
SIGNER = make_signer("tradeloom.test-log", Ed25519PrivateKey.generate())


class AnchorsModel:
    """The answers of CheckpointAnchors as a client sees them: JSON records, '' for none, coded refusals."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, int], dict[str, Any]] = {}

    def _latest(self, origin: str) -> dict[str, Any] | None:
        sizes = [size for (o, size) in self.records if o == origin]
        return self.records[(origin, max(sizes))] if sizes else None

    def _record(self, invocation: Invocation) -> dict[str, Any]:
        origin, size, root, note = (arg.decode() for arg in invocation.args)
        existing = self.records.get((origin, int(size)))
        if existing and existing["rootHash"] != root:
            raise ChaincodeRefusal(f"history_conflict: {origin} was anchored at size {size}")
        latest = self._latest(origin)
        if latest and int(latest["treeSize"]) >= int(size):
            raise ChaincodeRefusal(f"stale_tree_size: {origin} is already anchored at size {latest['treeSize']}")
        return {"origin": origin, "treeSize": size, "rootHash": root, "note": note, "txId": invocation.tx_id,
                "anchoredAt": ANCHORED_AT, "anchoredBy": MSP_ID}

    def execute(self, invocation: Invocation) -> tuple[bytes, bytes | None]:
        args = [arg.decode() for arg in invocation.args]
        if invocation.function == "AnchorCheckpoint":
            return json.dumps(self._record(invocation)).encode(), b"{}"
        found = self.records.get((args[0], int(args[1]))) if invocation.function == "GetAnchor" else (
            self._latest(args[0]))
        return (json.dumps(found).encode() if found else b""), None

    def commit(self, invocation: Invocation) -> None:
        record = self._record(invocation)
        self.records[(record["origin"], int(record["treeSize"]))] = record


@pytest.fixture
def chaincode() -> AnchorsModel:
    return AnchorsModel()


@pytest.fixture
def fabric_settings(tmp_path: Path, ca: ThrowawayCA, address: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings selecting the Fabric backend at the local Gateway; the job reads them."""
    certificate_pem, key = ca.issue("tradeloom-anchor@org1.test")
    (tmp_path / "cert.pem").write_bytes(certificate_pem)
    (tmp_path / "key.pem").write_bytes(key_pem(key))
    settings = Settings(ledger_anchor_backend="fabric", fabric_gateway_address=address, fabric_msp_id=MSP_ID,
                        fabric_channel=CHANNEL, fabric_chaincode=CHAINCODE, fabric_cert_path=tmp_path / "cert.pem",
                        fabric_key_path=tmp_path / "key.pem")
    monkeypatch.setattr(jobs, "get_settings", lambda: settings)
    return settings


def root_hash(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def checkpoint_event(tree_size: int, root: bytes, origin: str = ORIGIN) -> dict[str, Any]:
    """An outbox message for ``ledger.checkpoint_signed``, as the dispatcher hands it to the job."""
    note = sign_checkpoint(SIGNER, origin=origin, tree_size=tree_size, root_hash=root)
    return {"id": 7, "org_id": "00000000-0000-0000-0000-000000000000", "topic": "ledger.checkpoint_signed",
            "payload": {"origin": origin, "tree_size": tree_size, "root_hash": root.hex(), "note": note},
            "created_at": "2026-01-02T03:04:05+00:00"}


class TestAnchorCheckpointJob:
    def test_anchors_a_new_checkpoint(self, fabric_settings: Settings, double: GatewayDouble) -> None:
        # given
        event = checkpoint_event(10, root_hash("ten"))
        # when
        receipt = anchor_checkpoint(event)
        # then
        assert receipt == {"backend": "fabric", "status": "anchored", "tree_size": 10,
                           "tx_id": double.submitted[0], "block_number": 42,
                           "anchored_at": "2026-01-02T03:04:06+00:00"}
        assert double.invoked() == [
            ("GetAnchor", [ORIGIN.encode(), b"10"]),
            ("GetLatest", [ORIGIN.encode()]),
            ("AnchorCheckpoint", [ORIGIN.encode(), b"10", base64.b64encode(root_hash("ten")),
                                  event["payload"]["note"].encode()]),
        ]

    def test_a_repeated_event_sends_no_second_transaction(self, fabric_settings: Settings,
                                                          double: GatewayDouble) -> None:
        # given
        event = checkpoint_event(10, root_hash("ten"))
        first = anchor_checkpoint(event)
        # when
        again = anchor_checkpoint(event)
        # then
        assert again == {**first, "status": "already_anchored", "block_number": None}
        assert len(double.submitted) == 1

    def test_an_older_checkpoint_is_superseded_by_a_larger_anchored_tree(self, fabric_settings: Settings,
                                                                         double: GatewayDouble) -> None:
        # given
        anchor_checkpoint(checkpoint_event(20, root_hash("twenty")))
        # when
        receipt = anchor_checkpoint(checkpoint_event(10, root_hash("ten")))
        # then
        assert (receipt["status"], receipt["tree_size"], receipt["tx_id"]) == ("superseded", 20, double.submitted[0])
        assert len(double.submitted) == 1

    def test_a_different_root_at_an_anchored_size_is_a_conflict(self, fabric_settings: Settings,
                                                                double: GatewayDouble) -> None:
        # given
        anchor_checkpoint(checkpoint_event(10, root_hash("ten")))
        # when / then
        with pytest.raises(AnchorConflict, match=f"{ORIGIN} is anchored at size 10 with root"):
            anchor_checkpoint(checkpoint_event(10, root_hash("forged")))
        assert len(double.submitted) == 1

    @pytest.mark.parametrize("change", [
        {"root_hash": root_hash("other").hex()},
        {"tree_size": 11},
        {"origin": "someone.else/log"},
        {"note": "not a note"},
        {"root_hash": "zz"},
    ])
    def test_refuses_an_event_whose_fields_and_note_disagree(self, fabric_settings: Settings,
                                                             double: GatewayDouble, change: dict[str, Any]) -> None:
        event = checkpoint_event(10, root_hash("ten"))
        event["payload"].update(change)
        with pytest.raises(InvalidCheckpointEvent):
            anchor_checkpoint(event)
        assert double.invocations == []

    def test_refuses_an_event_without_a_checkpoint(self) -> None:
        with pytest.raises(InvalidCheckpointEvent, match="origin"):
            anchor_checkpoint({"id": 1, "topic": "ledger.checkpoint_signed", "payload": {}})

    def test_without_a_backend_nothing_is_anchored(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(jobs, "get_settings", lambda: Settings(ledger_anchor_backend="none"))
        receipt = anchor_checkpoint(checkpoint_event(10, root_hash("ten")))
        assert receipt == {"backend": "none", "status": "not_anchored", "tree_size": 10, "tx_id": None,
                           "block_number": None, "anchored_at": None}


def test_the_backend_is_chosen_by_settings(fabric_settings: Settings) -> None:
    assert isinstance(anchor_backend(Settings(ledger_anchor_backend="none")), NullAnchor)
    fabric = anchor_backend(fabric_settings)
    try:
        assert fabric.anchor(ORIGIN, 3, root_hash("three"), sign_checkpoint(
            SIGNER, origin=ORIGIN, tree_size=3, root_hash=root_hash("three"))).status == AnchorStatus.ANCHORED
    finally:
        fabric.close()

