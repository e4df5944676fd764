"""Signed tree heads as C2SP checkpoints (c2sp.org/tlog-checkpoint) in signed notes (c2sp.org/signed-note).

A checkpoint body is three lines, each ending in a newline: the log's origin, the tree size in decimal
and the base64 root hash (optional non-empty extension lines may follow). The note adds a blank line and
signature lines ``— <key name> <base64(4-byte key id || Ed25519 signature)>``. Only Ed25519 keys
(signature type 0x01) are supported; their key id is SHA-256(name || "\\n" || 0x01 || public key)[:4].
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.merkle import HASH_SIZE

ED25519_TYPE = b"\x01"
SIGNATURE_PREFIX = "— "  # U+2014 EM DASH, then a space
MAX_SIGNATURES = 100  # the limit the reference implementation enforces against huge notes
MAX_TREE_SIZE = 2**64 - 1
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_KEY_ID_HEX = re.compile(r"[0-9a-f]{8}")


class CheckpointFailure(StrEnum):
    """Why a checkpoint or key was rejected (stable, machine-readable)."""

    MALFORMED_KEY = "malformed_key"
    MALFORMED_NOTE = "malformed_note"
    MALFORMED_CHECKPOINT = "malformed_checkpoint"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    WRONG_ORIGIN = "wrong_origin"


class CheckpointError(Exception):
    """A checkpoint, note or key that cannot be trusted, with the precise reason."""

    def __init__(self, failure: CheckpointFailure, message: str) -> None:
        super().__init__(f"{failure.value}: {message}")
        self.failure = failure
        self.message = message


def is_valid_key_name(name: str) -> bool:
    """Key names are non-empty and contain neither Unicode whitespace nor '+'."""
    return bool(name) and "+" not in name and not any(char.isspace() for char in name)


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte id of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519_TYPE + public_key).digest()[:4]


def _raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _malformed_key(message: str) -> CheckpointError:
    return CheckpointError(CheckpointFailure.MALFORMED_KEY, message)


def _decode_typed_key(encoded: str) -> bytes:
    """Decode base64(0x01 || 32-byte key) and return the 32 bytes."""
    try:
        typed_key = base64.b64decode(encoded, validate=True)
    except binascii.Error as error:
        raise _malformed_key(f"key material is not base64: {error}") from error
    if typed_key[:1] != ED25519_TYPE:
        raise _malformed_key("only Ed25519 keys (signature type 0x01) are supported")
    if len(typed_key) != 33:
        raise _malformed_key(f"an Ed25519 key is 32 bytes, got {len(typed_key) - 1}")
    return typed_key[1:]


@dataclass(frozen=True)
class VerifierKey:
    """A log's public key, as shared in the text form ``<name>+<hex key id>+<base64(0x01 || key)>``."""

    name: str
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Parse and check a verifier key string; raises CheckpointError(MALFORMED_KEY)."""
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise _malformed_key("expected <name>+<hex key id>+<base64 key>")
        name, id_hex, encoded = parts
        if not is_valid_key_name(name):
            raise _malformed_key(f"invalid key name {name!r}")
        if not _KEY_ID_HEX.fullmatch(id_hex):
            raise _malformed_key(f"key id must be 8 lowercase hex digits, got {id_hex!r}")
        verifier_key = cls(name, _decode_typed_key(encoded))
        if verifier_key.key_id.hex() != id_hex:
            raise _malformed_key(f"key id {id_hex} does not match the key ({verifier_key.key_id.hex()})")
        return verifier_key

    def __str__(self) -> str:
        encoded = base64.b64encode(ED25519_TYPE + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True if ``signature`` is this key's Ed25519 signature of ``message``."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class NoteSigner:
    """Signs notes under a key name with an Ed25519 private key."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise _malformed_key(f"invalid key name {self.name!r}")

    @property
    def verifier_key(self) -> VerifierKey:
        return VerifierKey(self.name, _raw_public_key(self.private_key.public_key()))

    @classmethod
    def from_signer_key(cls, text: str) -> NoteSigner:
        """Parse ``PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || seed)>`` (the reference format)."""
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise _malformed_key("expected PRIVATE+KEY+<name>+<hex key id>+<base64 seed>")
        name, id_hex, encoded = parts[2:]
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(_decode_typed_key(encoded)))
        if signer.verifier_key.key_id.hex() != id_hex:
            raise _malformed_key(f"key id {id_hex!r} does not match the key")
        return signer

    def signature_line(self, text: str) -> str:
        """The note signature line for ``text`` (which must be the exact signed bytes)."""
        signature = self.private_key.sign(text.encode())
        encoded = base64.b64encode(self.verifier_key.key_id + signature).decode()
        return f"{SIGNATURE_PREFIX}{self.name} {encoded}\n"


def make_signer(name: str, private_key: Ed25519PrivateKey) -> NoteSigner:
    """A note signer for the log key called ``name``."""
    return NoteSigner(name, private_key)


def generate_signer_key(name: str) -> str:
    """A fresh signer key string for ``name`` (keep it secret; derive the verifier key from it)."""
    signer = NoteSigner(name, Ed25519PrivateKey.generate())
    encoded = base64.b64encode(ED25519_TYPE + signer.private_key.private_bytes_raw()).decode()
    return f"PRIVATE+KEY+{name}+{signer.verifier_key.key_id.hex()}+{encoded}"


def _malformed_note(message: str) -> CheckpointError:
    return CheckpointError(CheckpointFailure.MALFORMED_NOTE, message)


def _check_note_characters(text: str) -> None:
    for char in text:
        if char < " " and char != "\n":
            raise _malformed_note(f"control character {ord(char):#04x} is not allowed")


def sign_note(text: str, signer: NoteSigner) -> str:
    """Sign ``text`` (which must end in a newline and contain no blank line) as a one-signature note."""
    if not text.endswith("\n") or "\n\n" in text:
        raise _malformed_note("note text must end in a newline and contain no blank line")
    _check_note_characters(text)
    return f"{text}\n{signer.signature_line(text)}"


@dataclass(frozen=True)
class NoteSignature:
    """One parsed signature line."""

    key_name: str
    key_id: bytes
    signature: bytes


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise _malformed_note(f"signature line must start with '— ': {line!r}")
    name, _, encoded = line.removeprefix(SIGNATURE_PREFIX).partition(" ")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raw = b""
    if not is_valid_key_name(name) or len(raw) < 5:
        raise _malformed_note(f"malformed signature line {line!r}")
    return NoteSignature(name, raw[:4], raw[4:])


def split_note(note: str) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its signed text and parsed signature lines (nothing verified yet)."""
    _check_note_characters(note)
    split_at = note.rfind("\n\n")
    if split_at < 0 or not note.endswith("\n"):
        raise _malformed_note("no signature block after a blank line")
    text, signature_block = note[: split_at + 1], note[split_at + 2 :]
    lines = signature_block.removesuffix("\n").split("\n")
    if not signature_block or len(lines) > MAX_SIGNATURES:
        raise _malformed_note(f"a note needs 1 to {MAX_SIGNATURES} signature lines")
    return text, [_parse_signature_line(line) for line in lines]


def open_note(note: str, verifier_key: VerifierKey) -> str:
    """Return the note's text if it carries a valid signature by ``verifier_key``.

    Signatures by other keys are ignored; a signature that claims to be by this key but does not
    verify rejects the whole note, as the signed-note specification requires.
    """
    text, signatures = split_note(note)
    own = [s for s in signatures if (s.key_name, s.key_id) == (verifier_key.name, verifier_key.key_id)]
    if not own:
        found = ", ".join(f"{s.key_name}+{s.key_id.hex()}" for s in signatures)
        raise CheckpointError(
            CheckpointFailure.UNKNOWN_KEY,
            f"not signed by {verifier_key.name}+{verifier_key.key_id.hex()} (signed by {found})",
        )
    for signature in own:
        if not verifier_key.verify(text.encode(), signature.signature):
            raise CheckpointError(
                CheckpointFailure.BAD_SIGNATURE,
                f"signature by {verifier_key.name}+{verifier_key.key_id.hex()} does not match the note text",
            )
    return text


@dataclass(frozen=True)
class Checkpoint:
    """A signed tree head: which log, how many leaves, and the Merkle root over them."""

    origin: str
    tree_size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        """The checkpoint's note text (the bytes that are signed)."""
        lines = (self.origin, str(self.tree_size), base64.b64encode(self.root_hash).decode())
        return "".join(f"{line}\n" for line in (*lines, *self.extensions))


def _malformed_checkpoint(message: str) -> CheckpointError:
    return CheckpointError(CheckpointFailure.MALFORMED_CHECKPOINT, message)


def _parse_tree_size(line: str) -> int:
    if not _DECIMAL.fullmatch(line) or int(line) > MAX_TREE_SIZE:
        raise _malformed_checkpoint(f"tree size must be a decimal number without leading zeros, got {line!r}")
    return int(line)


def _parse_root_hash(line: str) -> bytes:
    try:
        root = base64.b64decode(line, validate=True)
    except binascii.Error as error:
        raise _malformed_checkpoint(f"root hash is not base64: {line!r}") from error
    if len(root) != HASH_SIZE or base64.b64encode(root).decode() != line:
        raise _malformed_checkpoint(f"root hash must be {HASH_SIZE} bytes in standard base64, got {line!r}")
    return root


def parse_checkpoint_body(text: str) -> Checkpoint:
    """Parse checkpoint text (without signatures); raises CheckpointError(MALFORMED_CHECKPOINT)."""
    lines = text.removesuffix("\n").split("\n")
    if not text.endswith("\n") or len(lines) < 3:
        raise _malformed_checkpoint("a checkpoint needs origin, tree size and root hash lines")
    origin, size_line, root_line, *extensions = lines
    if not origin:
        raise _malformed_checkpoint("origin line is empty")
    if "" in extensions:
        raise _malformed_checkpoint("extension lines must not be empty")
    return Checkpoint(origin, _parse_tree_size(size_line), _parse_root_hash(root_line), tuple(extensions))


def sign_checkpoint(signer: NoteSigner, *, origin: str, tree_size: int, root_hash: bytes) -> str:
    """The signed note for the tree head (origin, tree_size, root_hash)."""
    checkpoint = Checkpoint(origin, tree_size, root_hash)
    if parse_checkpoint_body(checkpoint.body()) != checkpoint:  # never sign what would read back otherwise
        raise _malformed_checkpoint(f"origin {origin!r} does not fit on one line")
    return sign_note(checkpoint.body(), signer)


def parse_and_verify(
    note: str, verifier_key: VerifierKey | str, *, expected_origin: str | None = None
) -> Checkpoint:
    """Verify a signed checkpoint against ``verifier_key`` and return it; raises CheckpointError."""
    key = verifier_key if isinstance(verifier_key, VerifierKey) else VerifierKey.parse(verifier_key)
    checkpoint = parse_checkpoint_body(open_note(note, key))
    if expected_origin is not None and checkpoint.origin != expected_origin:
        raise CheckpointError(
            CheckpointFailure.WRONG_ORIGIN,
            f"checkpoint is for log {checkpoint.origin!r}, expected {expected_origin!r}",
        )
    return checkpoint
