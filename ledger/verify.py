"""Offline verification of an evidence bundle: no server, no database, only the bundle (and the file).

The result is a report of named checks, each ok, failed or skipped (skipped when a check it depends on
failed), so a person can see exactly which claim does not hold. Turning it into an exit code is the
CLI's business (ledger.verify_cli).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import BinaryIO

from pydantic import ValidationError

from ledger.bundle import EvidenceBundle, NewerCheckpoint
from ledger.canonical import EvidenceEntry, EvidenceFormatError, salted_file_digest
from ledger.checkpoint import Checkpoint, CheckpointError, VerifierKey, parse_and_verify
from ledger.merkle import ProofError, leaf_hash, verify_consistency, verify_inclusion


class CheckName(StrEnum):
    """The claims a bundle makes, in the order they are checked."""

    BUNDLE_FORMAT = "bundle_format"
    ENTRY_FORMAT = "entry_format"
    LOG_KEY = "log_key"
    CHECKPOINT_SIGNATURE = "checkpoint_signature"
    TREE_SIZE = "tree_size"
    INCLUSION_PROOF = "inclusion_proof"
    NEWER_CHECKPOINT_SIGNATURE = "newer_checkpoint_signature"
    CONSISTENCY_PROOF = "consistency_proof"
    FILE_DIGEST = "file_digest"


class CheckStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Check:
    """The outcome of one named check, with a message precise enough to act on."""

    name: CheckName
    status: CheckStatus
    message: str


@dataclass(frozen=True)
class VerificationReport:
    """All checks run on one bundle; ``ok`` only if every one of them holds."""

    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.status is CheckStatus.OK for check in self.checks)

    def get(self, name: CheckName) -> Check | None:
        """The check called ``name``, or None if it was not run (e.g. no file was given)."""
        return next((check for check in self.checks if check.name is name), None)

    def failed(self) -> list[CheckName]:
        """Names of the checks that failed (not those skipped because of them)."""
        return [check.name for check in self.checks if check.status is CheckStatus.FAILED]


class _Verification:
    """Runs the checks of one bundle in order, remembering what earlier checks established."""

    def __init__(self, bundle: EvidenceBundle, pinned_key: str | None) -> None:
        self.bundle = bundle
        self.pinned_key = pinned_key
        self.checks: list[Check] = []

    def record(self, name: CheckName, status: CheckStatus, message: str) -> None:
        self.checks.append(Check(name, status, message))

    def passed(self, name: CheckName, message: str) -> None:
        self.record(name, CheckStatus.OK, message)

    def fail(self, name: CheckName, message: str) -> None:
        self.record(name, CheckStatus.FAILED, message)

    def skip(self, name: CheckName, because: CheckName) -> None:
        self.record(name, CheckStatus.SKIPPED, f"not checked: needs {because.value}")

    def log_key(self) -> VerifierKey | None:
        try:
            key = VerifierKey.parse(self.bundle.log_key)
            pinned = None if self.pinned_key is None else VerifierKey.parse(self.pinned_key)
        except CheckpointError as error:
            self.fail(CheckName.LOG_KEY, str(error))
            return None
        if pinned is not None and pinned != key:
            self.fail(CheckName.LOG_KEY, f"bundle names log key {key}, pinned is {pinned}")
            return None
        trust = "matches the pinned key" if pinned else "taken from the bundle itself (pin it to trust it)"
        self.passed(CheckName.LOG_KEY, f"{key.name}+{key.key_id.hex()}: {trust}")
        return key

    def checkpoint(
        self, name: CheckName, note: str, key: VerifierKey, origin: str | None
    ) -> Checkpoint | None:
        try:
            checkpoint = parse_and_verify(note, key, expected_origin=origin)
        except CheckpointError as error:
            self.fail(name, str(error))
            return None
        self.passed(
            name,
            f"{checkpoint.origin} at tree size {checkpoint.tree_size}, "
            f"root {checkpoint.root_hash.hex()}, signed by {key.name}+{key.key_id.hex()}",
        )
        return checkpoint

    def tree_size(self, checkpoint: Checkpoint) -> bool:
        bundle = self.bundle
        if bundle.tree_size != checkpoint.tree_size:
            message = f"bundle says tree size {bundle.tree_size}, its checkpoint {checkpoint.tree_size}"
        elif bundle.leaf_index >= checkpoint.tree_size:
            message = f"leaf index {bundle.leaf_index} is outside a tree of size {checkpoint.tree_size}"
        else:
            self.passed(CheckName.TREE_SIZE, f"leaf {bundle.leaf_index} of {bundle.tree_size}")
            return True
        self.fail(CheckName.TREE_SIZE, message)
        return False

    def entry(self) -> EvidenceEntry | None:
        try:
            entry = EvidenceEntry.from_canonical(self.bundle.entry_data())
        except EvidenceFormatError as error:
            self.fail(CheckName.ENTRY_FORMAT, str(error))
            return None
        summary = f"{entry.kind} of {entry.subject} by org {entry.org} at {entry.to_json()['recorded_at']}"
        self.passed(CheckName.ENTRY_FORMAT, summary)
        return entry

    def inclusion(self, checkpoint: Checkpoint) -> None:
        entry_hash = leaf_hash(self.bundle.entry_data())
        try:
            verify_inclusion(
                entry_hash,
                self.bundle.leaf_index,
                checkpoint.tree_size,
                self.bundle.proof_hashes(),
                checkpoint.root_hash,
            )
        except ProofError as error:
            self.fail(CheckName.INCLUSION_PROOF, f"leaf {entry_hash.hex()}: {error}")
            return
        self.passed(CheckName.INCLUSION_PROOF, f"leaf {entry_hash.hex()} is in the signed tree")

    def consistency(self, old: Checkpoint, new: Checkpoint, proof: list[bytes]) -> None:
        try:
            verify_consistency(old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof)
        except ProofError as error:
            self.fail(CheckName.CONSISTENCY_PROOF, str(error))
            return
        message = f"tree of size {old.tree_size} is a prefix of the tree of size {new.tree_size}"
        self.passed(CheckName.CONSISTENCY_PROOF, message)

    def file_digest(self, entry: EvidenceEntry, file: bytes | BinaryIO) -> None:
        salt = self.bundle.file_salt_bytes()
        if entry.payload_digest is None:
            self.fail(CheckName.FILE_DIGEST, "the entry records no file digest")
        elif salt is None:
            self.fail(CheckName.FILE_DIGEST, "the bundle carries no file_salt")
        elif (digest := salted_file_digest(salt, file).hex()) != entry.payload_digest:
            message = f"salted digest of the file is {digest}, the entry records {entry.payload_digest}"
            self.fail(CheckName.FILE_DIGEST, message)
        else:
            self.passed(CheckName.FILE_DIGEST, f"file matches salted digest {digest}")


def _run_checks(verification: _Verification, file: bytes | BinaryIO | None) -> None:
    entry = verification.entry()
    key = verification.log_key()
    checkpoint = _run_checkpoint_checks(verification, key)
    newer = verification.bundle.newer_checkpoint
    if newer is not None:
        _run_newer_checkpoint(verification, newer, key, checkpoint)
    if file is not None and entry is None:
        verification.skip(CheckName.FILE_DIGEST, CheckName.ENTRY_FORMAT)
    elif file is not None and entry is not None:
        verification.file_digest(entry, file)


def _run_checkpoint_checks(verification: _Verification, key: VerifierKey | None) -> Checkpoint | None:
    """Signature, tree size and inclusion proof: each needs the one before it."""
    if key is None:
        for name in (CheckName.CHECKPOINT_SIGNATURE, CheckName.TREE_SIZE, CheckName.INCLUSION_PROOF):
            verification.skip(name, CheckName.LOG_KEY)
        return None
    checkpoint_note = verification.bundle.checkpoint
    checkpoint = verification.checkpoint(CheckName.CHECKPOINT_SIGNATURE, checkpoint_note, key, None)
    if checkpoint is None:
        verification.skip(CheckName.TREE_SIZE, CheckName.CHECKPOINT_SIGNATURE)
        verification.skip(CheckName.INCLUSION_PROOF, CheckName.CHECKPOINT_SIGNATURE)
    elif verification.tree_size(checkpoint):
        verification.inclusion(checkpoint)
    else:
        verification.skip(CheckName.INCLUSION_PROOF, CheckName.TREE_SIZE)
    return checkpoint


def _run_newer_checkpoint(
    verification: _Verification,
    newer: NewerCheckpoint,
    key: VerifierKey | None,
    checkpoint: Checkpoint | None,
) -> None:
    if key is None or checkpoint is None:
        verification.skip(CheckName.NEWER_CHECKPOINT_SIGNATURE, CheckName.CHECKPOINT_SIGNATURE)
        verification.skip(CheckName.CONSISTENCY_PROOF, CheckName.CHECKPOINT_SIGNATURE)
        return
    name = CheckName.NEWER_CHECKPOINT_SIGNATURE
    newer_checkpoint = verification.checkpoint(name, newer.checkpoint, key, checkpoint.origin)
    if newer_checkpoint is None:
        verification.skip(CheckName.CONSISTENCY_PROOF, name)
        return
    verification.consistency(checkpoint, newer_checkpoint, newer.proof_hashes())


def verify_bundle(
    bundle: EvidenceBundle | str | bytes,
    *,
    pinned_key: str | None = None,
    file: bytes | BinaryIO | None = None,
) -> VerificationReport:
    """Check every claim of a bundle (its JSON text or the parsed model).

    ``pinned_key`` is the log's verifier key from a trusted source; without it the bundle's own key is
    used, which proves internal consistency only. ``file`` (bytes or a binary file object) is checked
    against the entry's salted payload digest.
    """
    if not isinstance(bundle, EvidenceBundle):
        try:
            bundle = EvidenceBundle.model_validate_json(bundle)
        except ValidationError as error:
            failure = Check(CheckName.BUNDLE_FORMAT, CheckStatus.FAILED, _describe(error))
            return VerificationReport((failure,))
    verification = _Verification(bundle, pinned_key)
    verification.passed(CheckName.BUNDLE_FORMAT, bundle.format)
    _run_checks(verification, file)
    return VerificationReport(tuple(verification.checks))


def _describe(error: ValidationError) -> str:
    """Pydantic's errors as one line: ``field.path: message; ...``."""
    problems = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "document"
        problems.append(f"{location}: {item['msg']}")
    return "; ".join(problems)
