"""The log's signing key, from the settings (or, outside production, a key made once in the data dir)."""

from dataclasses import dataclass
from functools import lru_cache

from ledger.checkpoint import NoteSigner, VerifierKey, generate_signer_key
from tradeloom.settings import Settings


@dataclass(frozen=True)
class LogSigner:
    """Who signs the checkpoints: the log's origin line and its Ed25519 note signer."""

    origin: str
    signer: NoteSigner

    @property
    def verifier_key(self) -> VerifierKey:
        return self.signer.verifier_key


def log_signer(settings: Settings) -> LogSigner:
    """The log's origin and checkpoint signer, as configured."""
    return LogSigner(settings.ledger_log_origin, _parse_signer(settings.ledger_signer_key(generate_signer_key)))


@lru_cache(maxsize=8)
def _parse_signer(signer_key: str) -> NoteSigner:
    return NoteSigner.from_signer_key(signer_key)
