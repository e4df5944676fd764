"""Per-device and per-edge-node MQTT passwords, hashed in Mosquitto's own password-file format.

The stored hash is ``$7$<iterations>$<salt>$<PBKDF2-SHA512>``, exactly what ``mosquitto_passwd`` writes, so
the broker enforces it: ``tradeloom iot-bridge password-file`` writes a Mosquitto ``password_file`` from
the registry. The plain password is shown once, when a device or edge node is registered.
"""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

_ALGORITHM = "7"  # Mosquitto's id for PBKDF2-HMAC-SHA512
_ITERATIONS = 20_000  # Mosquitto reads the count from the hash; its own default (101) is too low
_SALT_BYTES = 12


def new_mqtt_password() -> str:
    return secrets.token_urlsafe(24)


def hash_mqtt_password(password: str, *, salt: bytes | None = None, iterations: int = _ITERATIONS) -> str:
    salt = salt if salt is not None else secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"${_ALGORITHM}${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_mqtt_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a ``$7$`` hash (for the bridge's own checks and tests)."""
    try:
        _, algorithm, iterations, salt, digest = stored.split("$")
        if algorithm != _ALGORITHM:
            return False
        expected = hash_mqtt_password(password, salt=base64.b64decode(salt), iterations=int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(expected.rsplit("$", 1)[1], digest)


def password_file(credentials: Iterable[tuple[str, str]]) -> str:
    """A Mosquitto ``password_file`` from (username, hash) pairs."""
    return "".join(f"{username}:{password_hash}\n" for username, password_hash in credentials)
