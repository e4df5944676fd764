"""Secrets stored in the database (ERP passwords, API tokens, client secrets), sealed with AES-256-GCM.

A sealed value is ``tlsec1:<key id>:<base64 nonce ‖ ciphertext ‖ tag>``. The keys come from settings
(``TRADELOOM_SECRETS_KEY``: ``kid:base64key[,kid:base64key…]``); the first key seals, every listed key opens,
so a key is rotated by putting a new one first and re-sealing (``reseal``) before the old one is dropped.
The associated data binds a sealed value to the row and field it was sealed for: a value copied into another
connector's row does not open.
"""

import base64
import binascii
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "tlsec1"
NONCE_BYTES = 12


class SecretBoxError(Exception):
    """A key that is not usable, or a sealed value that does not open (unknown key id, tampered)."""


@dataclass(frozen=True)
class SecretBox:
    keys: dict[str, bytes]  # key id → 32-byte key; insertion order: the first seals
    current: str

    @classmethod
    def from_keyring(cls, keyring: str) -> "SecretBox":
        """Parse ``kid:base64key[,kid:base64key…]``."""
        keys: dict[str, bytes] = {}
        for entry in filter(None, (part.strip() for part in keyring.split(","))):
            kid, _, encoded = entry.partition(":")
            try:
                key = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                raise SecretBoxError(f"secrets key {kid!r} is not base64") from None
            if not kid.isalnum() or len(key) != 32:
                raise SecretBoxError(f"secrets key {kid!r} must be an alphanumeric id and 32 bytes of base64")
            keys[kid] = key
        if not keys:
            raise SecretBoxError("no secrets key configured")
        return cls(keys, next(iter(keys)))

    def seal(self, plain: str, *, context: str) -> str:
        """``plain`` encrypted under the current key, bound to ``context`` (e.g. ``connector:<id>:password``)."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.current]).encrypt(nonce, plain.encode(), context.encode())
        return f"{PREFIX}:{self.current}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, token: str, *, context: str) -> str:
        """The plain value of a sealed one; ``SecretBoxError`` when it cannot be opened."""
        prefix, kid, encoded = [*token.split(":", 2), "", ""][:3]
        if prefix != PREFIX:
            raise SecretBoxError("the value is not sealed")
        if kid not in self.keys:
            raise SecretBoxError(f"no secrets key {kid!r} is configured (was it rotated out too early?)")
        try:
            raw = base64.b64decode(encoded, validate=True)
            return AESGCM(self.keys[kid]).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()).decode()
        except (binascii.Error, InvalidTag, ValueError):
            raise SecretBoxError("the sealed value does not open (tampered, or sealed for another row)") from None

    def reseal(self, token: str, *, context: str) -> str:
        """The value sealed under the current key (unchanged when it already is)."""
        if is_sealed(token) and token.split(":", 2)[1] == self.current:
            return token
        return self.seal(self.open(token, context=context), context=context)


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX + ":")
