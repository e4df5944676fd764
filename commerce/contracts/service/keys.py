"""Each organization's Ed25519 signing key.

Kept by the platform: generated here, the private key stored encrypted with AES-256-GCM under a key derived
(HKDF-SHA256) from the app secret and bound to the organization, so a copied row is useless for another
org and without the secret. Or uploaded: the organization keeps its private key, signs offline and uploads
the signature. One key is active at a time; replacing it revokes the old one (old signatures keep the public
key they were made with, so they stay verifiable).
"""

import base64
import binascii
import os
import uuid

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.contracts.models import SigningKey
from tradeloom.audit import Actor, record_audit
from tradeloom.db import utcnow
from tradeloom.errors import Invalid, Unavailable

PLATFORM, UPLOADED = "platform", "uploaded"
_NONCE_BYTES = 12


def _wrapping_key(secret: str, org_id: uuid.UUID) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"tradeloom contract signing keys",
                   info=org_id.bytes).derive(secret.encode())
    return AESGCM(derived)


def _raw_public(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def verify_signature(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def decode_base64(text: str, *, what: str, size: int) -> bytes:
    """Strict base64 of exactly ``size`` bytes, else a 422 naming ``what``."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Invalid(f"The {what} is not base64.", code="contract.bad_encoding") from exc
    if len(raw) != size:
        raise Invalid(f"An Ed25519 {what} is {size} bytes, this one is {len(raw)}.", code="contract.bad_encoding")
    return raw


async def active_key(session: AsyncSession, *, org_id: uuid.UUID) -> SigningKey | None:
    query = select(SigningKey).where(SigningKey.org_id == org_id, SigningKey.revoked_at.is_(None)).order_by(
        SigningKey.created_at.desc()).limit(1)
    return await session.scalar(query)


async def _replace(session: AsyncSession, actor: Actor, key: SigningKey) -> SigningKey:
    await session.execute(update(SigningKey).where(SigningKey.org_id == actor.org_id,
                                                   SigningKey.revoked_at.is_(None)).values(revoked_at=utcnow()))
    session.add(key)
    await session.flush()
    await record_audit(session, actor=actor, action="signing_key.created", object_type="signing_key",
                       object_id=key.id, details={"custody": key.custody})
    return key


async def generate_platform_key(session: AsyncSession, *, actor: Actor, secret: str) -> SigningKey:
    """A new platform-kept key for the actor's organization (the previous one is revoked)."""
    private_key = Ed25519PrivateKey.generate()
    raw = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    nonce = os.urandom(_NONCE_BYTES)
    sealed = nonce + _wrapping_key(secret, actor.org_id).encrypt(nonce, raw, actor.org_id.bytes)
    return await _replace(session, actor, SigningKey(org_id=actor.org_id, public_key=_raw_public(private_key),
                                                     encrypted_private_key=sealed, custody=PLATFORM))


async def upload_public_key(session: AsyncSession, *, actor: Actor, public_key: str) -> SigningKey:
    """The organization keeps its own private key; the platform stores the public key to verify with."""
    raw = decode_base64(public_key, what="public key", size=32)
    return await _replace(session, actor, SigningKey(org_id=actor.org_id, public_key=raw, custody=UPLOADED))


async def signing_key_for(session: AsyncSession, *, actor: Actor, secret: str) -> SigningKey:
    """The organization's active key; a platform-kept one is made on first use."""
    return await active_key(session, org_id=actor.org_id) or await generate_platform_key(
        session, actor=actor, secret=secret)


def platform_sign(key: SigningKey, *, secret: str, message: bytes) -> bytes:
    """Sign with a platform-kept key (decrypted for this one signature only)."""
    assert key.encrypted_private_key is not None
    sealed = key.encrypted_private_key
    try:
        raw = _wrapping_key(secret, key.org_id).decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:],
                                                        key.org_id.bytes)
    except InvalidTag as exc:
        raise Unavailable("The signing key cannot be unlocked with this platform's secret.",
                          code="contract.signing_key_locked") from exc
    return Ed25519PrivateKey.from_private_bytes(raw).sign(message)
