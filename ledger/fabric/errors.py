"""What can go wrong talking to a Fabric Gateway, one exception per thing the caller may handle differently."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PeerError:
    """One peer's or orderer's reason, as the Gateway attaches it to a failed call (``gateway.ErrorDetail``)."""

    address: str
    msp_id: str
    message: str


class FabricError(Exception):
    """A Gateway call failed; ``details`` lists the per-peer reasons when the Gateway gave them."""

    def __init__(self, message: str, *, transaction_id: str | None = None, details: tuple[PeerError, ...] = ()):
        reasons = "; ".join(f"{d.msp_id or '?'}@{d.address or '?'}: {d.message}" for d in details)
        super().__init__(f"{message} ({reasons})" if reasons else message)
        self.transaction_id = transaction_id
        self.details = details


class FabricConfigError(FabricError):
    """The ``fabric_*`` settings, certificate or key cannot be used."""


class GatewayUnavailable(FabricError):
    """The Gateway peer (or the peers and orderers behind it) could not be reached; retry later."""


class FabricTimeout(FabricError):
    """A call ran out of time. After Submit the transaction may still commit: look it up before sending again."""


class EndorsementFailed(FabricError):
    """The proposal was not endorsed: the chaincode refused it or the endorsement policy was not met."""


class EvaluationFailed(FabricError):
    """A query (Evaluate) failed in the chaincode or at the peer."""


class SubmitFailed(FabricError):
    """The endorsed transaction was not accepted for ordering."""


class TransactionInvalid(FabricError):
    """The transaction was ordered into a block but not committed as valid (e.g. an MVCC read conflict)."""

    def __init__(self, message: str, *, transaction_id: str, validation_code: str, block_number: int):
        super().__init__(message, transaction_id=transaction_id)
        self.validation_code = validation_code
        self.block_number = block_number
