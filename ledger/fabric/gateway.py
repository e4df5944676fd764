"""A client of the Fabric Gateway gRPC service (Fabric 2.4+), on the published protos and grpcio.

Submitting is Endorse (the Gateway collects endorsements and returns the prepared transaction) → sign the
envelope → Submit (to ordering) → CommitStatus (blocks until the peer has committed the block, with a
deadline). Queries are a single Evaluate. Every request is signed by our organization's identity; the
Gateway checks those signatures against the channel's MSPs. This module knows nothing of our database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import grpc
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc
from fabric_protos.peer import transaction_pb2
from google.rpc import status_pb2

from ledger.fabric.errors import (
    EndorsementFailed,
    EvaluationFailed,
    FabricConfigError,
    FabricError,
    FabricTimeout,
    GatewayUnavailable,
    PeerError,
    SubmitFailed,
    TransactionInvalid,
)
from ledger.fabric.identity import SigningIdentity
from ledger.fabric.proposal import SignedProposal, build_proposal, read_prepared_transaction, sign_envelope
from tradeloom.settings import Settings

STATUS_DETAILS_KEY = "grpc-status-details-bin"
CHAINCODE_ERROR_STATUS = 400  # a chaincode Response status from here up is an error (shim.ERRORTHRESHOLD)


@dataclass(frozen=True)
class GatewayConfig:
    """Where the Gateway is and what we call on it."""

    address: str
    channel: str
    chaincode: str
    tls_ca_cert: bytes | None = None  # None: plaintext, for local tests only
    tls_server_name: str | None = None
    call_timeout: float = 30.0
    commit_timeout: float = 120.0


@dataclass(frozen=True)
class SubmitResult:
    """A transaction committed as valid: its id, its block and what the chaincode function returned."""

    transaction_id: str
    block_number: int
    result: bytes


def _peer_errors(error: grpc.RpcError) -> tuple[PeerError, ...]:
    """The ``gateway.ErrorDetail`` entries packed in the call's ``google.rpc.Status``, if any."""
    trailers = error.trailing_metadata() if isinstance(error, grpc.Call) else None
    for key, value in trailers or ():
        if key == STATUS_DETAILS_KEY:
            details = []
            for packed in status_pb2.Status.FromString(value).details:
                detail = gateway_pb2.ErrorDetail()
                if packed.Unpack(detail):
                    details.append(PeerError(detail.address, detail.msp_id, detail.message))
            return tuple(details)
    return ()


def _failure(stage: str, error: grpc.RpcError, tx_id: str, kind: type[FabricError]) -> FabricError:
    """Map a failed gRPC call to the exception a caller can act on."""
    if isinstance(error, grpc.Call):
        code, reason = error.code(), error.details()
    else:
        code, reason = grpc.StatusCode.UNKNOWN, str(error)
    message = f"{stage} of transaction {tx_id} failed: {code.name}: {reason}"
    if code == grpc.StatusCode.UNAVAILABLE:
        kind = GatewayUnavailable
    elif code == grpc.StatusCode.DEADLINE_EXCEEDED:
        kind = FabricTimeout
    return kind(message, transaction_id=tx_id, details=_peer_errors(error))


def _call(stage: str, tx_id: str, kind: type[FabricError], method: Callable[..., Any], request: Any,
          timeout: float) -> Any:
    try:
        return method(request, timeout=timeout)
    except grpc.RpcError as error:
        raise _failure(stage, error, tx_id, kind) from error


def open_channel(config: GatewayConfig) -> grpc.Channel:
    """A gRPC channel to the Gateway peer, over TLS unless no CA is configured."""
    if config.tls_ca_cert is None:
        return grpc.insecure_channel(config.address)
    options = [("grpc.ssl_target_name_override", config.tls_server_name)] if config.tls_server_name else []
    return grpc.secure_channel(config.address, grpc.ssl_channel_credentials(config.tls_ca_cert), options=options)


class FabricGateway:
    """Calls one chaincode on one channel through a Fabric Gateway peer, as ``identity``."""

    def __init__(self, channel: grpc.Channel, identity: SigningIdentity, config: GatewayConfig) -> None:
        self._channel = channel
        self._stub = gateway_pb2_grpc.GatewayStub(channel)
        self._identity = identity
        self._config = config

    @classmethod
    def connect(cls, config: GatewayConfig, identity: SigningIdentity) -> FabricGateway:
        return cls(open_channel(config), identity, config)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> FabricGateway:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def evaluate(self, function: str, *args: str | bytes) -> bytes:
        """Run a query on one peer and return what the function returned; nothing is written to the ledger."""
        proposal = self._proposal(function, args)
        request = gateway_pb2.EvaluateRequest(
            transaction_id=proposal.transaction_id, channel_id=self._config.channel,
            proposed_transaction=proposal.proposal,
        )
        response = _call("evaluate", proposal.transaction_id, EvaluationFailed, self._stub.Evaluate, request,
                         self._config.call_timeout)
        if response.result.status >= CHAINCODE_ERROR_STATUS:
            raise EvaluationFailed(f"evaluate of {function} failed: chaincode response {response.result.status}, "
                                   f"{response.result.message}", transaction_id=proposal.transaction_id)
        return bytes(response.result.payload)

    def submit(self, function: str, *args: str | bytes) -> SubmitResult:
        """Endorse, order and wait for the commit of ``function(*args)``; raises unless it committed as valid."""
        proposal = self._proposal(function, args)
        tx_id, channel = proposal.transaction_id, self._config.channel
        endorsed = _call("endorse", tx_id, EndorsementFailed, self._stub.Endorse, gateway_pb2.EndorseRequest(
            transaction_id=tx_id, channel_id=channel, proposed_transaction=proposal.proposal,
        ), self._config.call_timeout)
        prepared = read_prepared_transaction(endorsed.prepared_transaction)
        if prepared.transaction_id != tx_id:  # never sign a transaction other than the one we proposed
            raise EndorsementFailed(f"the Gateway returned transaction {prepared.transaction_id} for {tx_id}",
                                    transaction_id=tx_id)
        envelope = sign_envelope(self._identity, endorsed.prepared_transaction)
        _call("submit", tx_id, SubmitFailed, self._stub.Submit, gateway_pb2.SubmitRequest(
            transaction_id=tx_id, channel_id=channel, prepared_transaction=envelope,
        ), self._config.call_timeout)
        block_number = self._wait_for_commit(tx_id)
        return SubmitResult(tx_id, block_number, prepared.result)

    def _proposal(self, function: str, args: Sequence[str | bytes]) -> SignedProposal:
        return build_proposal(self._identity, channel=self._config.channel, chaincode=self._config.chaincode,
                              function=function, args=args)

    def _wait_for_commit(self, tx_id: str) -> int:
        request = gateway_pb2.CommitStatusRequest(
            transaction_id=tx_id, channel_id=self._config.channel, identity=self._identity.creator,
        ).SerializeToString()
        signed = gateway_pb2.SignedCommitStatusRequest(request=request, signature=self._identity.sign(request))
        status = _call("commit status", tx_id, FabricError, self._stub.CommitStatus, signed,
                       self._config.commit_timeout)
        if status.result != transaction_pb2.VALID:
            code = transaction_pb2.TxValidationCode.Name(status.result)
            raise TransactionInvalid(f"transaction {tx_id} was not committed: {code} in block {status.block_number}",
                                     transaction_id=tx_id, validation_code=code, block_number=status.block_number)
        return int(status.block_number)


def gateway_from_settings(settings: Settings) -> FabricGateway:
    """A connected client configured by the ``fabric_*`` settings."""
    address, msp_id = settings.fabric_gateway_address, settings.fabric_msp_id
    cert_path, key_path = settings.fabric_cert_path, settings.fabric_key_path
    if address is None or msp_id is None or cert_path is None or key_path is None:
        raise FabricConfigError("the Fabric backend needs TRADELOOM_FABRIC_GATEWAY_ADDRESS, TRADELOOM_FABRIC_MSP_ID, "
                                "TRADELOOM_FABRIC_CERT_PATH and TRADELOOM_FABRIC_KEY_PATH")
    if settings.fabric_tls_ca_cert_path is None and settings.is_production:
        raise FabricConfigError("TRADELOOM_FABRIC_TLS_CA_CERT_PATH must be set in production (plaintext is for tests)")
    tls_ca = None
    if settings.fabric_tls_ca_cert_path is not None:
        try:
            tls_ca = settings.fabric_tls_ca_cert_path.read_bytes()
        except OSError as error:
            raise FabricConfigError(f"cannot read the Fabric TLS CA certificate: {error}") from error
    config = GatewayConfig(
        address=address, channel=settings.fabric_channel, chaincode=settings.fabric_chaincode,
        tls_ca_cert=tls_ca, tls_server_name=settings.fabric_tls_server_name,
        call_timeout=settings.fabric_call_timeout_seconds, commit_timeout=settings.fabric_commit_timeout_seconds,
    )
    return FabricGateway.connect(config, SigningIdentity.from_files(msp_id, cert_path, key_path))
