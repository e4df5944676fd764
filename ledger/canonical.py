"""Evidence entries as RFC 8785 canonical JSON (the exact leaf data of the log) and salted file digests.

A file is never put in the log: the entry carries SHA-256(salt || file bytes) with a random 16-byte salt
that stays with the evidence owner. Handing over the salt (in a bundle) and the file lets anyone check
possession, while the public log alone reveals nothing, not even for small, guessable files.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

import rfc8785

from ledger.merkle import leaf_hash

FILE_SALT_SIZE = 16
_READ_CHUNK = 1 << 20
_RECORDED_AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
_ENTRY_FIELDS = frozenset({"kind", "subject", "org", "recorded_at"})
_ENTRY_SHAPES = (_ENTRY_FIELDS | {"payload"}, _ENTRY_FIELDS | {"payload_digest"})


class EvidenceFormatError(Exception):
    """Leaf data that is not a well-formed, canonical evidence entry, or a malformed file salt."""


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON; raises rfc8785.CanonicalizationError for values JSON cannot carry exactly."""
    return rfc8785.dumps(value)


def new_file_salt() -> bytes:
    """A fresh random salt for one file digest."""
    return secrets.token_bytes(FILE_SALT_SIZE)


def salted_file_digest(salt: bytes, file: bytes | BinaryIO) -> bytes:
    """SHA-256(salt || file bytes); a file object is read in chunks, so large files are fine."""
    if len(salt) != FILE_SALT_SIZE:
        raise EvidenceFormatError(f"file salt must be {FILE_SALT_SIZE} bytes, got {len(salt)}")
    digest = hashlib.sha256(salt)
    if isinstance(file, bytes):
        digest.update(file)
    else:
        while chunk := file.read(_READ_CHUNK):
            digest.update(chunk)
    return digest.digest()


def format_recorded_at(moment: datetime) -> str:
    """UTC with microseconds and a Z, so one instant always has one spelling."""
    if moment.tzinfo is None:
        raise EvidenceFormatError("recorded_at must be timezone-aware")
    return moment.astimezone(UTC).strftime(_RECORDED_AT_FORMAT)


def _parse_recorded_at(text: object) -> datetime:
    if not isinstance(text, str):
        raise EvidenceFormatError("recorded_at must be a string")
    try:
        return datetime.strptime(text, _RECORDED_AT_FORMAT).replace(tzinfo=UTC)
    except ValueError as error:
        raise EvidenceFormatError(f"recorded_at {text!r} is not YYYY-MM-DDTHH:MM:SS.ffffffZ") from error


@dataclass(frozen=True)
class EvidenceEntry:
    """One key step of a trade as logged: what happened (kind), to what (subject), by whom (org), when.

    Exactly one of ``payload`` (JSON facts) and ``payload_digest`` (hex salted SHA-256 of a file).
    """

    kind: str
    subject: str
    org: str
    recorded_at: datetime
    payload: dict[str, Any] | None = None
    payload_digest: str | None = None

    def __post_init__(self) -> None:
        if (self.payload is None) == (self.payload_digest is None):
            raise EvidenceFormatError("an entry has exactly one of payload and payload_digest")
        if self.payload is not None and not isinstance(self.payload, dict):
            raise EvidenceFormatError("payload must be a JSON object")
        if self.payload_digest is not None and not (
            isinstance(self.payload_digest, str) and _HEX_DIGEST.fullmatch(self.payload_digest)
        ):
            raise EvidenceFormatError("payload_digest must be 64 lowercase hex digits")
        for name in ("kind", "subject", "org"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise EvidenceFormatError(f"{name} must be a non-empty string")
        format_recorded_at(self.recorded_at)

    def to_json(self) -> dict[str, Any]:
        """The entry as a JSON object (before canonicalization)."""
        document: dict[str, Any] = {
            "kind": self.kind,
            "subject": self.subject,
            "org": self.org,
            "recorded_at": format_recorded_at(self.recorded_at),
        }
        if self.payload is not None:
            document["payload"] = self.payload
        else:
            document["payload_digest"] = self.payload_digest
        return document

    def canonical_bytes(self) -> bytes:
        """The leaf data: the RFC 8785 form of :meth:`to_json`."""
        return canonical_json(self.to_json())

    def leaf_hash(self) -> bytes:
        """The Merkle leaf hash of this entry."""
        return leaf_hash(self.canonical_bytes())

    @classmethod
    def from_canonical(cls, leaf_data: bytes) -> EvidenceEntry:
        """Parse leaf data, insisting that it is exactly the canonical form of a valid entry."""
        try:
            document = json.loads(leaf_data)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise EvidenceFormatError(f"entry is not JSON: {error}") from error
        if not isinstance(document, dict):
            raise EvidenceFormatError("entry must be a JSON object")
        if set(document) not in _ENTRY_SHAPES:
            raise EvidenceFormatError(
                f"entry fields must be {sorted(_ENTRY_FIELDS)} + payload or payload_digest"
            )
        entry = cls(
            kind=document["kind"],
            subject=document["subject"],
            org=document["org"],
            recorded_at=_parse_recorded_at(document["recorded_at"]),
            payload=document.get("payload"),
            payload_digest=document.get("payload_digest"),
        )
        try:
            canonical = entry.canonical_bytes()
        except rfc8785.CanonicalizationError as error:
            raise EvidenceFormatError(f"entry payload cannot be canonicalized: {error}") from error
        if canonical != leaf_data:
            raise EvidenceFormatError("entry is not in RFC 8785 canonical form")
        return entry
