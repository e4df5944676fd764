"""The log's signing key, from the settings (or, outside production, a key made once in the data dir)."""

from functools import lru_cache

from ledger.checkpoint import NoteSigner, generate_signer_key
from tradeloom.settings import Settings


def log_signer(settings: Settings) -> NoteSigner:
    """The Ed25519 signer of the log's checkpoints."""
    return _parse_signer(settings.ledger_signer_key(generate_signer_key))


@lru_cache(maxsize=8)
def _parse_signer(signer_key: str) -> NoteSigner:
    return NoteSigner.from_signer_key(signer_key)
