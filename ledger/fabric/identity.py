"""Our organization's Fabric client identity: the MSP id and X.509 certificate peers know us by, and the key
that signs proposals, transactions and commit-status requests."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from fabric_protos.msp import identities_pb2

from ledger.fabric.errors import FabricConfigError

# Order of the P-256 group. Fabric rejects ECDSA signatures whose s is in the upper half (malleability).
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def low_s_signature(der_signature: bytes) -> bytes:
    """The same ECDSA signature with s replaced by n - s when s > n/2, as Fabric requires."""
    r, s = decode_dss_signature(der_signature)
    if s > P256_ORDER // 2:
        s = P256_ORDER - s
    return encode_dss_signature(r, s)


@dataclass(frozen=True)
class SigningIdentity:
    """An X.509 identity of ``msp_id`` with its ECDSA P-256 private key."""

    msp_id: str
    certificate_pem: bytes
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.private_key.curve, ec.SECP256R1):
            raise FabricConfigError(f"the private key must be ECDSA P-256, not {self.private_key.curve.name}")
        try:
            certificate = x509.load_pem_x509_certificate(self.certificate_pem)
        except ValueError as error:
            raise FabricConfigError(f"the certificate is not PEM X.509: {error}") from error
        if certificate.public_key() != self.private_key.public_key():
            raise FabricConfigError("the private key does not belong to the certificate")

    @classmethod
    def from_files(cls, msp_id: str, cert_path: Path, key_path: Path) -> SigningIdentity:
        """Load a PEM certificate and an unencrypted PEM private key (PKCS#8 or SEC1, as Fabric CAs write them)."""
        try:
            private_key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as error:
            raise FabricConfigError(f"cannot load the private key {key_path}: {error}") from error
        if not isinstance(private_key, ec.EllipticCurvePrivateKey):
            raise FabricConfigError(f"{key_path} is not an ECDSA private key")
        try:
            certificate_pem = cert_path.read_bytes()
        except OSError as error:
            raise FabricConfigError(f"cannot read the certificate {cert_path}: {error}") from error
        return cls(msp_id, certificate_pem, private_key)

    @property
    def creator(self) -> bytes:
        """The serialized identity (``msp.SerializedIdentity``) that headers carry as the creator."""
        identity = identities_pb2.SerializedIdentity(mspid=self.msp_id, id_bytes=self.certificate_pem)
        return bytes(identity.SerializeToString())

    def sign(self, message: bytes) -> bytes:
        """DER ECDSA signature over SHA-256(message), low-S normalized."""
        return low_s_signature(self.private_key.sign(message, ec.ECDSA(hashes.SHA256())))


def transaction_id(nonce: bytes, creator: bytes) -> str:
    """Fabric's transaction id: hex(SHA-256(nonce || creator))."""
    return hashlib.sha256(nonce + creator).hexdigest()
