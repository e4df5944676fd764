"""Secrets in and out: argon2 passwords, bearer JWTs, API key and session-id secrets (kept as SHA-256)."""

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tradeloom.errors import Unauthorized

_hasher = PasswordHasher()
# A valid hash of a random password: verified against when the e-mail is unknown, so that a login
# for an unknown address costs the same time as one with a wrong password.
_DECOY_HASH = _hasher.hash(secrets.token_urlsafe(16))
JWT_ALGORITHM = "HS256"
JWT_AUDIENCE = "tradeloom-api"
API_KEY_PREFIX = "tlk"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; an absent hash still costs one argon2 verification."""
    try:
        return _hasher.verify(password_hash or _DECOY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    org_id: uuid.UUID
    expires_at: dt.datetime


def issue_access_token(*, secret: str, user_id: uuid.UUID, org_id: uuid.UUID, minutes: int) -> str:
    now = dt.datetime.now(dt.UTC)
    payload = {
        "sub": str(user_id), "org": str(org_id), "aud": JWT_AUDIENCE,
        "iat": now, "exp": now + dt.timedelta(minutes=minutes), "jti": secrets.token_hex(8),
    }
    return jwt.encode(payload, secret, algorithm=JWT_ALGORITHM)


def read_access_token(token: str, *, secret: str) -> AccessClaims:
    """The claims of a valid, unexpired token; anything else is 401 with the reason."""
    try:
        payload = jwt.decode(
            token, secret, algorithms=[JWT_ALGORITHM], audience=JWT_AUDIENCE,
            options={"require": ["sub", "org", "exp", "aud"]},
        )
        return AccessClaims(
            user_id=uuid.UUID(payload["sub"]), org_id=uuid.UUID(payload["org"]),
            expires_at=dt.datetime.fromtimestamp(payload["exp"], dt.UTC),
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The access token has expired.", code="token_expired") from exc
    except (jwt.InvalidTokenError, ValueError) as exc:
        raise Unauthorized("The access token is not valid.", code="token_invalid") from exc


@dataclass(frozen=True)
class NewApiKey:
    prefix: str
    secret_hash: str
    plaintext: str


def new_api_key() -> NewApiKey:
    """``tlk_<prefix>_<secret>``: the prefix finds the row, the secret is checked against its SHA-256."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewApiKey(prefix=prefix, secret_hash=sha256_hex(secret), plaintext=f"{API_KEY_PREFIX}_{prefix}_{secret}")


def split_api_key(plaintext: str) -> tuple[str, str]:
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX or not parts[1] or not parts[2]:
        raise Unauthorized("The API key is malformed.", code="api_key_invalid")
    return parts[1], parts[2]


def secret_matches(secret: str, expected_hash: str) -> bool:
    return hmac.compare_digest(sha256_hex(secret), expected_hash)


def new_session_token() -> tuple[str, str]:
    """A browser session id and the hash we store for it."""
    token = secrets.token_urlsafe(32)
    return token, sha256_hex(token)


def csrf_token_for(session_token: str, *, secret: str) -> str:
    """The CSRF token bound to one browser session (synchronizer token derived by HMAC)."""
    return hmac.new(secret.encode(), b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


def secret_matches_plain(supplied: str, expected: str) -> bool:
    return hmac.compare_digest(supplied.encode(), expected.encode())
