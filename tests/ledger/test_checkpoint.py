"""C2SP signed notes and checkpoints: the reference implementation's known answer, formats, rejections."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.checkpoint import (
    Checkpoint,
    CheckpointError,
    CheckpointFailure,
    NoteSigner,
    VerifierKey,
    generate_signer_key,
    key_id,
    make_signer,
    open_note,
    parse_and_verify,
    sign_checkpoint,
    sign_note,
)

# The example key and note published with the reference implementation (golang.org/x/mod/sumdb/note).
# Ed25519 is deterministic, so signing the text must reproduce the signature byte for byte.
REFERENCE_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
REFERENCE_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
REFERENCE_TEXT = (
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
)
REFERENCE_SIGNATURE = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)
REFERENCE_NOTE = f"{REFERENCE_TEXT}\n— PeterNeumann {REFERENCE_SIGNATURE}\n"

ORIGIN = "tradeloom.example/ledger"
ROOT = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
ROOT_B64 = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="
LOG_SIGNER = make_signer(ORIGIN, Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
OTHER_SIGNER = make_signer("someone.else/log", Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33))))


def failure_of(note: str, key: VerifierKey | str = LOG_SIGNER.verifier_key) -> CheckpointFailure:
    with pytest.raises(CheckpointError) as raised:
        parse_and_verify(note, key)
    return raised.value.failure


class TestReferenceVector:
    def test_signer_key_gives_the_published_verifier_key(self) -> None:
        signer = NoteSigner.from_signer_key(REFERENCE_SIGNER_KEY)
        assert str(signer.verifier_key) == REFERENCE_VERIFIER_KEY
        assert key_id("PeterNeumann", signer.verifier_key.public_key).hex() == "c74f20a3"

    def test_signing_reproduces_the_published_note(self) -> None:
        assert sign_note(REFERENCE_TEXT, NoteSigner.from_signer_key(REFERENCE_SIGNER_KEY)) == REFERENCE_NOTE

    def test_published_note_opens_with_the_published_key(self) -> None:
        assert open_note(REFERENCE_NOTE, VerifierKey.parse(REFERENCE_VERIFIER_KEY)) == REFERENCE_TEXT


class TestSignCheckpoint:
    def test_note_has_the_exact_c2sp_layout(self) -> None:
        # when
        note = sign_checkpoint(LOG_SIGNER, origin=ORIGIN, tree_size=8, root_hash=ROOT)
        # then
        *body, blank, signature_line, end = note.split("\n")
        assert body == [ORIGIN, "8", ROOT_B64]
        assert (blank, end) == ("", "")
        assert signature_line.startswith(f"— {ORIGIN} ")
        signature = base64.b64decode(signature_line.removeprefix(f"— {ORIGIN} "), validate=True)
        assert signature[:4] == LOG_SIGNER.verifier_key.key_id
        assert len(signature) == 4 + 64

    def test_round_trip_with_key_string_and_key_object(self) -> None:
        note = sign_checkpoint(LOG_SIGNER, origin=ORIGIN, tree_size=8, root_hash=ROOT)
        expected = Checkpoint(ORIGIN, 8, ROOT)
        assert parse_and_verify(note, str(LOG_SIGNER.verifier_key)) == expected
        assert parse_and_verify(note, LOG_SIGNER.verifier_key, expected_origin=ORIGIN) == expected

    def test_extension_lines_are_kept(self) -> None:
        body = Checkpoint(ORIGIN, 0, ROOT, ("timestamp 1700000000",)).body()
        note = sign_note(body, LOG_SIGNER)
        assert parse_and_verify(note, LOG_SIGNER.verifier_key).extensions == ("timestamp 1700000000",)

    def test_signatures_by_unknown_keys_are_ignored(self) -> None:
        note = sign_checkpoint(LOG_SIGNER, origin=ORIGIN, tree_size=8, root_hash=ROOT)
        cosigned = note + OTHER_SIGNER.signature_line(Checkpoint(ORIGIN, 8, ROOT).body())
        assert parse_and_verify(cosigned, LOG_SIGNER.verifier_key).tree_size == 8

    @pytest.mark.parametrize(
        ("origin", "tree_size", "root_hash"),
        [("two\nlines", 8, ROOT), ("", 8, ROOT), (ORIGIN, -1, ROOT), (ORIGIN, 8, ROOT[:31])],
    )
    def test_refuses_to_sign_what_it_would_not_accept(
        self, origin: str, tree_size: int, root_hash: bytes
    ) -> None:
        with pytest.raises(CheckpointError) as raised:
            sign_checkpoint(LOG_SIGNER, origin=origin, tree_size=tree_size, root_hash=root_hash)
        assert raised.value.failure is CheckpointFailure.MALFORMED_CHECKPOINT

    def test_generated_signer_key_round_trips(self) -> None:
        signer = NoteSigner.from_signer_key(generate_signer_key(ORIGIN))
        note = sign_checkpoint(signer, origin=ORIGIN, tree_size=1, root_hash=ROOT)
        assert parse_and_verify(note, str(signer.verifier_key)).tree_size == 1


class TestRejections:
    def test_edited_root_is_a_bad_signature(self) -> None:
        note = sign_checkpoint(LOG_SIGNER, origin=ORIGIN, tree_size=8, root_hash=ROOT)
        edited = note.replace("Xcnae", "Xcnaf", 1)
        with pytest.raises(CheckpointError, match=f"bad_signature: signature by {ORIGIN}\\+"):
            parse_and_verify(edited, LOG_SIGNER.verifier_key)

    def test_edited_tree_size_is_a_bad_signature(self) -> None:
        note = sign_checkpoint(LOG_SIGNER, origin=ORIGIN, tree_size=8, root_hash=ROOT)
        assert failure_of(note.replace("\n8\n", "\n9\n", 1)) is CheckpointFailure.BAD_SIGNATURE

    def test_note_signed_by_another_key_is_unknown(self) -> None:
        note = sign_checkpoint(OTHER_SIGNER, origin=ORIGIN, tree_size=8, root_hash=ROOT)
        with pytest.raises(CheckpointError) as raised:
            parse_and_verify(note, LOG_SIGNER.verifier_key)
        assert raised.value.failure is CheckpointFailure.UNKNOWN_KEY
        assert raised.value.message == (
            f"not signed by {ORIGIN}+{LOG_SIGNER.verifier_key.key_id.hex()} "
            f"(signed by someone.else/log+{OTHER_SIGNER.verifier_key.key_id.hex()})"
        )

    def test_another_key_under_the_same_name_is_unknown(self) -> None:
        impostor = make_signer(ORIGIN, Ed25519PrivateKey.from_private_bytes(bytes(32)))
        note = sign_checkpoint(impostor, origin=ORIGIN, tree_size=8, root_hash=ROOT)
        assert failure_of(note) is CheckpointFailure.UNKNOWN_KEY

    def test_forged_key_id_is_a_bad_signature(self) -> None:
        # given a signature by another key, labelled with the log's name and key id
        body = Checkpoint(ORIGIN, 8, ROOT).body()
        forged = LOG_SIGNER.verifier_key.key_id + OTHER_SIGNER.private_key.sign(body.encode())
        note = f"{body}\n— {ORIGIN} {base64.b64encode(forged).decode()}\n"
        # when / then
        assert failure_of(note) is CheckpointFailure.BAD_SIGNATURE

    def test_wrong_origin_is_reported(self) -> None:
        note = sign_checkpoint(LOG_SIGNER, origin="other.example/log", tree_size=8, root_hash=ROOT)
        with pytest.raises(
            CheckpointError, match=r"wrong_origin: checkpoint is for log 'other\.example/log'"
        ):
            parse_and_verify(note, LOG_SIGNER.verifier_key, expected_origin=ORIGIN)

    @pytest.mark.parametrize(
        "mangle",
        [
            lambda note: note.replace("\n\n", "\n", 1),  # no blank line before the signatures
            lambda note: note.removesuffix("\n"),  # no final newline
            lambda note: note.replace("— ", "-- ", 1),  # ASCII dashes instead of the em dash
            lambda note: note.replace(" ", "\t", 1),  # control character
            lambda note: note.replace("=\n", "!\n"),  # signature is not base64
            lambda note: note + "\n",  # empty signature block
            lambda note: note + "— only-a-name\n",  # signature line without signature
            lambda note: note.replace(f"— {ORIGIN}", "— two names", 1),  # invalid key name
            lambda note: note + "".join(note.split("\n\n")[1] for _ in range(100)),  # over 100 signatures
        ],
    )
    def test_malformed_notes(self, mangle: object) -> None:
        note = sign_checkpoint(LOG_SIGNER, origin=ORIGIN, tree_size=8, root_hash=ROOT)
        assert callable(mangle)
        assert failure_of(mangle(note)) is CheckpointFailure.MALFORMED_NOTE

    @pytest.mark.parametrize(
        ("body", "reason"),
        [
            (f"{ORIGIN}\n8\n", "needs origin, tree size and root hash"),
            (f"\n8\n{ROOT_B64}\n", "origin line is empty"),
            (f"{ORIGIN}\n08\n{ROOT_B64}\n", "without leading zeros"),
            (f"{ORIGIN}\n+8\n{ROOT_B64}\n", "without leading zeros"),
            (f"{ORIGIN}\n８\n{ROOT_B64}\n", "without leading zeros"),
            (f"{ORIGIN}\n{2**64}\n{ROOT_B64}\n", "without leading zeros"),
            (f"{ORIGIN}\n8\n{base64.b64encode(ROOT[:31]).decode()}\n", "must be 32 bytes"),
            (f"{ORIGIN}\n8\n{'_' * 42}8=\n", "not base64"),
            (f"{ORIGIN}\n8\n{ROOT_B64[:-1]}\n", "not base64"),
            (f"{ORIGIN}\n8\n{ROOT_B64.replace('yg=', 'yh=')}\n", "in standard base64"),
        ],
    )
    def test_malformed_checkpoint_bodies(self, body: str, reason: str) -> None:
        # given a validly signed note whose text is not a checkpoint
        note = sign_note(body, LOG_SIGNER)
        # when / then
        with pytest.raises(CheckpointError, match=f"malformed_checkpoint: .*{reason}"):
            parse_and_verify(note, LOG_SIGNER.verifier_key)


class TestVerifierKey:
    def test_text_form_round_trips(self) -> None:
        text = str(LOG_SIGNER.verifier_key)
        assert text.startswith(f"{ORIGIN}+{LOG_SIGNER.verifier_key.key_id.hex()}+AQ")
        assert VerifierKey.parse(text) == LOG_SIGNER.verifier_key

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("PeterNeumann+c74f20a3", "expected <name>"),
            ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match the key"),
            ("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 lowercase hex digits"),
            ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "invalid key name"),
            ("PeterNeumann+c74f20a3+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "only Ed25519"),
            ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy", "32 bytes"),
            ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", "not base64"),
        ],
    )
    def test_malformed_keys(self, text: str, reason: str) -> None:
        with pytest.raises(CheckpointError, match=f"malformed_key: .*{reason}"):
            VerifierKey.parse(text)

    def test_signer_key_with_the_wrong_key_id_is_refused(self) -> None:
        with pytest.raises(CheckpointError, match="malformed_key: key id 'c74f20a4' does not match"):
            NoteSigner.from_signer_key(REFERENCE_SIGNER_KEY.replace("c74f20a3", "c74f20a4"))

    def test_signer_needs_a_valid_key_name(self) -> None:
        with pytest.raises(CheckpointError, match="invalid key name 'a\\+b'"):
            make_signer("a+b", Ed25519PrivateKey.generate())
