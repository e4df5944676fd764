"""A connector's credentials at rest: every value sealed with AES-256-GCM (``tradeloom.secret_box``), bound to
the connector and the credential's name; opened only when a client signs in to the ERP. The API and the pages
show the names with masked values, never a value."""

import uuid
from collections.abc import Mapping
from functools import lru_cache

from integrations.connectors.clients import ConnectorRefused
from tradeloom.errors import Unavailable
from tradeloom.secret_box import SecretBox, SecretBoxError, is_sealed
from tradeloom.settings import get_settings

MASK = "********"


@lru_cache(maxsize=4)
def _box(keyring: str) -> SecretBox:
    return SecretBox.from_keyring(keyring)


def credentials_box(keyring: str = "") -> SecretBox:
    """The box of the given keyring (from ``CallOptions``), else of the process settings; 503 when production
    runs without ``TRADELOOM_SECRETS_KEY``. Webhook signing secrets use the same box."""
    try:
        return _box(keyring or get_settings().secrets_keyring())
    except RuntimeError:
        raise Unavailable("TRADELOOM_SECRETS_KEY is not configured: connector credentials and webhook signing "
                          "secrets cannot be sealed or opened.", code="secrets_key_missing") from None


def _context(connector_id: uuid.UUID, name: str) -> str:
    return f"connector:{connector_id}:{name}"


def seal_credentials(box: SecretBox, connector_id: uuid.UUID, plain: Mapping[str, str]) -> dict[str, str]:
    """What is stored: each value sealed for this connector and name."""
    return {name: box.seal(value, context=_context(connector_id, name)) for name, value in plain.items()}


def open_credentials(box: SecretBox, connector_id: uuid.UUID, stored: Mapping[str, str]) -> dict[str, str]:
    """The plain credentials for a sign-in; refused (the sync fails, "test connection" says why) when a value
    will not open: its key was removed from ``TRADELOOM_SECRETS_KEY``, or the row was tampered with."""
    try:
        return {name: box.open(value, context=_context(connector_id, name)) for name, value in stored.items()}
    except SecretBoxError as exc:
        raise ConnectorRefused(f"the stored credentials cannot be decrypted ({exc}); enter them again") from None


def reseal_credentials(box: SecretBox, connector_id: uuid.UUID, stored: Mapping[str, str]) -> dict[str, str]:
    """Plain values (rows from before encryption) sealed; sealed ones moved to the current key."""
    return {name: box.reseal(value, context=_context(connector_id, name)) if is_sealed(value)
            else box.seal(value, context=_context(connector_id, name)) for name, value in stored.items()}


def masked(stored: Mapping[str, str]) -> dict[str, str]:
    """Names only: what the API and the pages show."""
    return {name: MASK for name in sorted(stored)}
