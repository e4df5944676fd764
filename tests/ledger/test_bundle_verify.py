"""Canonical evidence entries, evidence bundles and their offline verification, tampering included."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.bundle import EvidenceBundle, NewerCheckpoint
from ledger.canonical import EvidenceEntry, EvidenceFormatError, canonical_json, salted_file_digest
from ledger.checkpoint import NoteSigner, make_signer, sign_checkpoint
from ledger.merkle import InMemoryNodeStore, consistency_proof, inclusion_proof, plan_tree_hash
from ledger.verify import CheckName, VerificationReport, verify_bundle
from ledger.verify_cli import main

ORIGIN = "tradeloom.example/ledger"
LOG_SIGNER = make_signer(ORIGIN, Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
OTHER_SIGNER = make_signer(ORIGIN, Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33))))
RECORDED_AT = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
AT = b'"recorded_at":"2025-03-01T08:30:00.000000Z"'
GOODS_RECEIPT_PDF = b"%PDF-1.7 goods receipt GR-42: 40 pallets of M8 hex bolts received in good order\n"
FILE_SALT = bytes.fromhex("00112233445566778899aabbccddeeff")
FILE_ENTRY_INDEX = 7
CHECKPOINT_SIZE, NEWER_SIZE = 10, 12
ALL_OK = {
    "bundle_format": "ok",
    "log_key": "ok",
    "checkpoint_signature": "ok",
    "tree_size": "ok",
    "entry_format": "ok",
    "inclusion_proof": "ok",
}


def order_entry(number: int) -> EvidenceEntry:
    return EvidenceEntry(
        kind="order.placed",
        subject=f"order:PO-{1000 + number}",
        org="org-a",
        recorded_at=RECORDED_AT,
        payload={"lines": number, "total": "1200.5000"},
    )


def goods_receipt_entry() -> EvidenceEntry:
    return EvidenceEntry(
        kind="goods_receipt.signed",
        subject="goods_receipt:GR-42",
        org="org-b",
        recorded_at=RECORDED_AT,
        payload_digest=salted_file_digest(FILE_SALT, GOODS_RECEIPT_PDF).hex(),
    )


ENTRIES = [goods_receipt_entry() if n == FILE_ENTRY_INDEX else order_entry(n) for n in range(NEWER_SIZE)]
STORE = InMemoryNodeStore()
STORE.append(entry.leaf_hash() for entry in ENTRIES)


def signed_checkpoint(tree_size: int, signer: NoteSigner = LOG_SIGNER, origin: str = ORIGIN) -> str:
    root = plan_tree_hash(tree_size).fetch(STORE)[0]
    return sign_checkpoint(signer, origin=origin, tree_size=tree_size, root_hash=root)


def make_bundle(leaf_index: int, *, with_newer: bool = False) -> EvidenceBundle:
    newer = NewerCheckpoint(
        checkpoint=signed_checkpoint(NEWER_SIZE),
        consistency_proof=[h.hex() for h in consistency_proof(STORE, CHECKPOINT_SIZE, NEWER_SIZE)],
    )
    return EvidenceBundle.assemble(
        entry_data=ENTRIES[leaf_index].canonical_bytes(),
        leaf_index=leaf_index,
        tree_size=CHECKPOINT_SIZE,
        inclusion_proof=inclusion_proof(STORE, leaf_index, CHECKPOINT_SIZE),
        checkpoint=signed_checkpoint(CHECKPOINT_SIZE),
        log_key=str(LOG_SIGNER.verifier_key),
        file_salt=FILE_SALT if leaf_index == FILE_ENTRY_INDEX else None,
        newer_checkpoint=newer if with_newer else None,
        anchor={"fabric_tx_id": "3f1c9a"},
    )


def statuses(report: VerificationReport) -> dict[str, str]:
    return {check.name.value: check.status.value for check in report.checks}


def message_of(report: VerificationReport, name: CheckName) -> str:
    check = report.get(name)
    assert check is not None
    return check.message


class TestCanonicalEntry:
    def test_canonical_json_sorts_keys_and_drops_whitespace(self) -> None:
        assert canonical_json({"b": 1, "a": [True, None, "é"]}) == '{"a":[true,null,"é"],"b":1}'.encode()

    def test_entry_bytes_are_exact(self) -> None:
        assert order_entry(3).canonical_bytes() == (
            b'{"kind":"order.placed","org":"org-a","payload":{"lines":3,"total":"1200.5000"},'
            b'"recorded_at":"2025-03-01T08:30:00.000000Z","subject":"order:PO-1003"}'
        )

    def test_recorded_at_is_stored_in_utc(self) -> None:
        # given the same instant in UTC+8
        local = RECORDED_AT.astimezone(timezone(timedelta(hours=8)))
        entry = EvidenceEntry(kind="k", subject="s", org="o", recorded_at=local, payload={})
        # then
        assert entry.to_json()["recorded_at"] == "2025-03-01T08:30:00.000000Z"

    def test_file_entry_records_the_salted_digest(self) -> None:
        expected = hashlib.sha256(FILE_SALT + GOODS_RECEIPT_PDF).hexdigest()
        assert goods_receipt_entry().to_json()["payload_digest"] == expected
        assert salted_file_digest(FILE_SALT, io.BytesIO(GOODS_RECEIPT_PDF)).hex() == expected

    def test_round_trip(self) -> None:
        for entry in (order_entry(1), goods_receipt_entry()):
            assert EvidenceEntry.from_canonical(entry.canonical_bytes()) == entry

    @pytest.mark.parametrize(
        ("leaf_data", "reason"),
        [
            (
                b'{"kind": "k","org":"o","payload":{},' + AT + b',"subject":"s"}',
                "not in RFC 8785 canonical form",
            ),
            (
                b'{"org":"o","kind":"k","payload":{},' + AT + b',"subject":"s"}',
                "not in RFC 8785 canonical form",
            ),
            (
                b'{"kind":"k","org":"o","payload":{},"recorded_at":"2025-03-01T08:30:00Z","subject":"s"}',
                "is not",
            ),
            (b'{"kind":"k","org":"o",' + AT + b',"subject":"s"}', "payload or payload_digest"),
            (
                b'{"kind":"k","org":"o","payload":{"x":NaN},' + AT + b',"subject":"s"}',
                "cannot be canonicalized",
            ),
            (
                b'{"kind":1,"org":"o","payload":{},' + AT + b',"subject":"s"}',
                "kind must be a non-empty string",
            ),
            (b"[1]", "must be a JSON object"),
            (b"\xff", "not JSON"),
        ],
    )
    def test_rejects_malformed_leaf_data(self, leaf_data: bytes, reason: str) -> None:
        with pytest.raises(EvidenceFormatError, match=reason):
            EvidenceEntry.from_canonical(leaf_data)

    def test_entry_needs_exactly_one_payload_form_and_an_aware_time(self) -> None:
        with pytest.raises(EvidenceFormatError, match="exactly one of payload and payload_digest"):
            EvidenceEntry(
                kind="k", subject="s", org="o", recorded_at=RECORDED_AT, payload={}, payload_digest="0" * 64
            )
        with pytest.raises(EvidenceFormatError, match="timezone-aware"):
            EvidenceEntry(kind="k", subject="s", org="o", recorded_at=datetime(2025, 3, 1), payload={})

    def test_salt_must_be_16_bytes(self) -> None:
        with pytest.raises(EvidenceFormatError, match="file salt must be 16 bytes, got 3"):
            salted_file_digest(b"abc", GOODS_RECEIPT_PDF)


class TestVerifyBundle:
    def test_valid_bundle_passes_every_check(self) -> None:
        # when
        report = verify_bundle(make_bundle(3), pinned_key=str(LOG_SIGNER.verifier_key))
        # then
        assert report.ok
        assert statuses(report) == ALL_OK
        assert message_of(report, CheckName.TREE_SIZE) == "leaf 3 of 10"
        assert message_of(report, CheckName.ENTRY_FORMAT) == (
            "order.placed of order:PO-1003 by org org-a at 2025-03-01T08:30:00.000000Z"
        )
        assert message_of(report, CheckName.LOG_KEY).endswith("matches the pinned key")

    def test_without_a_pinned_key_the_report_says_where_the_key_came_from(self) -> None:
        report = verify_bundle(make_bundle(3))
        assert report.ok
        assert message_of(report, CheckName.LOG_KEY).endswith(
            "taken from the bundle itself (pin it to trust it)"
        )

    def test_bundle_json_round_trips(self) -> None:
        # given
        bundle = make_bundle(FILE_ENTRY_INDEX, with_newer=True)
        document = bundle.to_json()
        # then
        assert EvidenceBundle.model_validate_json(document) == bundle
        assert json.loads(document)["format"] == "tradeloom-evidence-bundle/v1"
        assert "file_salt" not in json.loads(make_bundle(3).to_json())
        assert verify_bundle(document, file=GOODS_RECEIPT_PDF).ok

    def test_changed_payload_byte_fails_inclusion(self) -> None:
        # given an entry still in canonical form, but with one digit changed
        bundle = make_bundle(3)
        entry_data = bundle.entry_data().replace(b"1200.5000", b"1200.5001")
        tampered = bundle.model_copy(update={"entry": base64.b64encode(entry_data).decode()})
        # when
        report = verify_bundle(tampered)
        # then
        assert report.failed() == [CheckName.INCLUSION_PROOF]
        assert "inclusion proof leads to root" in message_of(report, CheckName.INCLUSION_PROOF)

    def test_changed_path_element_fails_inclusion(self) -> None:
        bundle = make_bundle(3)
        path = [*bundle.inclusion_proof]
        path[1] = ("0" if path[1][0] != "0" else "1") + path[1][1:]
        report = verify_bundle(bundle.model_copy(update={"inclusion_proof": path}))
        assert report.failed() == [CheckName.INCLUSION_PROOF]

    def test_changed_leaf_index_fails_inclusion(self) -> None:
        report = verify_bundle(make_bundle(3).model_copy(update={"leaf_index": 2}))
        assert report.failed() == [CheckName.INCLUSION_PROOF]

    def test_wrong_tree_size_fails_the_tree_size_check(self) -> None:
        # when
        report = verify_bundle(make_bundle(3).model_copy(update={"tree_size": 11}))
        # then
        assert statuses(report) == {**ALL_OK, "tree_size": "failed", "inclusion_proof": "skipped"}
        assert message_of(report, CheckName.TREE_SIZE) == "bundle says tree size 11, its checkpoint 10"

    def test_checkpoint_signed_by_another_key_fails_the_signature_check(self) -> None:
        # given the right tree head, but signed by a key that is not the log's
        bundle = make_bundle(3).model_copy(update={"checkpoint": signed_checkpoint(10, OTHER_SIGNER)})
        # when
        report = verify_bundle(bundle)
        # then
        assert statuses(report) == {
            **ALL_OK,
            "checkpoint_signature": "failed",
            "tree_size": "skipped",
            "inclusion_proof": "skipped",
        }
        assert message_of(report, CheckName.CHECKPOINT_SIGNATURE).startswith("unknown_key: not signed by")

    def test_bundle_carrying_another_log_key_fails_against_the_pinned_key(self) -> None:
        # given an attacker who re-signed the checkpoint and put their own key into the bundle
        bundle = make_bundle(3).model_copy(
            update={
                "checkpoint": signed_checkpoint(10, OTHER_SIGNER),
                "log_key": str(OTHER_SIGNER.verifier_key),
            }
        )
        # when
        report = verify_bundle(bundle, pinned_key=str(LOG_SIGNER.verifier_key))
        # then
        assert report.failed() == [CheckName.LOG_KEY]
        assert statuses(report)["checkpoint_signature"] == "skipped"
        assert message_of(report, CheckName.LOG_KEY).startswith(
            f"bundle names log key {OTHER_SIGNER.verifier_key}"
        )

    def test_edited_checkpoint_root_fails_the_signature_check(self) -> None:
        bundle = make_bundle(3)
        root_line = bundle.checkpoint.split("\n")[2]
        edited_root = ("A" if root_line[0] != "A" else "B") + root_line[1:]
        report = verify_bundle(
            bundle.model_copy(update={"checkpoint": bundle.checkpoint.replace(root_line, edited_root)})
        )
        assert report.failed() == [CheckName.CHECKPOINT_SIGNATURE]
        assert message_of(report, CheckName.CHECKPOINT_SIGNATURE).startswith("bad_signature:")

    def test_malformed_bundle_reports_only_the_format(self) -> None:
        document = json.loads(make_bundle(3).to_json())
        document["inclusion_proof"][0] = "not hex"
        report = verify_bundle(json.dumps(document))
        assert statuses(report) == {"bundle_format": "failed"}
        assert message_of(report, CheckName.BUNDLE_FORMAT).startswith(
            "inclusion_proof.0: String should match"
        )

    def test_unknown_field_is_a_format_failure(self) -> None:
        document = json.loads(make_bundle(3).to_json()) | {"verified": True}
        report = verify_bundle(json.dumps(document))
        assert statuses(report) == {"bundle_format": "failed"}
        assert message_of(report, CheckName.BUNDLE_FORMAT) == "verified: Extra inputs are not permitted"


class TestFileDigest:
    def test_original_file_matches(self) -> None:
        report = verify_bundle(make_bundle(FILE_ENTRY_INDEX), file=io.BytesIO(GOODS_RECEIPT_PDF))
        assert statuses(report) == {**ALL_OK, "file_digest": "ok"}

    def test_changed_file_fails(self) -> None:
        report = verify_bundle(make_bundle(FILE_ENTRY_INDEX), file=GOODS_RECEIPT_PDF.replace(b"40", b"60"))
        assert report.failed() == [CheckName.FILE_DIGEST]
        assert message_of(report, CheckName.FILE_DIGEST).startswith("salted digest of the file is ")

    def test_entry_without_file_digest_fails(self) -> None:
        report = verify_bundle(make_bundle(3), file=GOODS_RECEIPT_PDF)
        assert report.failed() == [CheckName.FILE_DIGEST]
        assert message_of(report, CheckName.FILE_DIGEST) == "the entry records no file digest"

    def test_bundle_without_salt_fails(self) -> None:
        bundle = make_bundle(FILE_ENTRY_INDEX).model_copy(update={"file_salt": None})
        report = verify_bundle(bundle, file=GOODS_RECEIPT_PDF)
        assert message_of(report, CheckName.FILE_DIGEST) == "the bundle carries no file_salt"


class TestNewerCheckpoint:
    def test_consistent_newer_checkpoint_passes(self) -> None:
        report = verify_bundle(make_bundle(3, with_newer=True))
        assert statuses(report) == {**ALL_OK, "newer_checkpoint_signature": "ok", "consistency_proof": "ok"}
        assert (
            message_of(report, CheckName.CONSISTENCY_PROOF)
            == "tree of size 10 is a prefix of the tree of size 12"
        )

    def test_tampered_consistency_proof_fails(self) -> None:
        bundle = make_bundle(3, with_newer=True)
        assert bundle.newer_checkpoint is not None
        proof = [*bundle.newer_checkpoint.consistency_proof]
        proof[0] = ("0" if proof[0][0] != "0" else "1") + proof[0][1:]
        newer = bundle.newer_checkpoint.model_copy(update={"consistency_proof": proof})
        report = verify_bundle(bundle.model_copy(update={"newer_checkpoint": newer}))
        assert report.failed() == [CheckName.CONSISTENCY_PROOF]

    def test_newer_checkpoint_by_another_key_fails(self) -> None:
        bundle = make_bundle(3, with_newer=True)
        assert bundle.newer_checkpoint is not None
        newer = bundle.newer_checkpoint.model_copy(update={"checkpoint": signed_checkpoint(12, OTHER_SIGNER)})
        report = verify_bundle(bundle.model_copy(update={"newer_checkpoint": newer}))
        assert report.failed() == [CheckName.NEWER_CHECKPOINT_SIGNATURE]
        assert statuses(report)["consistency_proof"] == "skipped"

    def test_newer_checkpoint_of_another_log_fails(self) -> None:
        bundle = make_bundle(3, with_newer=True)
        assert bundle.newer_checkpoint is not None
        other_log = signed_checkpoint(12, origin="elsewhere.example/log")
        newer = bundle.newer_checkpoint.model_copy(update={"checkpoint": other_log})
        report = verify_bundle(bundle.model_copy(update={"newer_checkpoint": newer}))
        assert report.failed() == [CheckName.NEWER_CHECKPOINT_SIGNATURE]
        assert message_of(report, CheckName.NEWER_CHECKPOINT_SIGNATURE).startswith("wrong_origin:")


class TestVerifyCli:
    def write(self, tmp_path: Path, bundle: EvidenceBundle) -> str:
        path = tmp_path / "bundle.json"
        path.write_text(bundle.to_json())
        return str(path)

    def test_valid_bundle_and_file_exit_zero(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        # given
        bundle_path = self.write(tmp_path, make_bundle(FILE_ENTRY_INDEX))
        (tmp_path / "gr-42.pdf").write_bytes(GOODS_RECEIPT_PDF)
        # when
        status = main(
            [bundle_path, "--file", str(tmp_path / "gr-42.pdf"), "--key", str(LOG_SIGNER.verifier_key)]
        )
        # then
        lines = capsys.readouterr().out.splitlines()
        assert status == 0
        assert [line.split("]")[0] for line in lines[:-1]] == ["[  ok   "] * 7
        assert lines[-1] == "VERIFIED: every check holds"

    def test_wrong_file_exits_one(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        bundle_path = self.write(tmp_path, make_bundle(FILE_ENTRY_INDEX))
        (tmp_path / "other.pdf").write_bytes(b"another document")
        assert main([bundle_path, "--file", str(tmp_path / "other.pdf")]) == 1
        assert capsys.readouterr().out.splitlines()[-1] == "NOT VERIFIED: file_digest"

    def test_tampered_bundle_names_failed_and_skipped_checks(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        bundle_path = self.write(tmp_path, make_bundle(3).model_copy(update={"tree_size": 9}))
        assert main([bundle_path]) == 1
        assert capsys.readouterr().out.splitlines()[-1] == "NOT VERIFIED: tree_size, inclusion_proof"

    def test_unreadable_bundle_exits_two(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main([str(tmp_path / "missing.json")]) == 2
        assert capsys.readouterr().err.startswith("cannot read ")

    def test_verifier_imports_no_database_or_server_code(self) -> None:
        # given a fresh interpreter, so modules loaded by other tests do not count
        probe = (
            "import sys, ledger.verify_cli; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'sqlalchemy', 'psycopg', 'fastapi', 'starlette', 'redis', 'rq', 'tradeloom'}))"
        )
        # when
        repository = Path(__file__).resolve().parents[2]
        completed = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=repository
        )
        # then
        assert completed.stdout.strip() == "[]"
