"""A local gRPC server implementing ``gateway.Gateway`` from the published Fabric protos, for the client tests.

It does what a Gateway peer does to a client's requests before any chaincode runs: checks that the creator
is a certificate of the expected MSP issued by its CA, that every signature (proposal, envelope, commit
status request) verifies under that certificate with a low-S ECDSA P-256 SHA-256 signature, and that the
transaction id is hex(SHA-256(nonce || creator)). It decodes each invocation (function and arguments),
runs it against a small in-process chaincode model and answers with well-formed protos: a prepared
transaction carrying an endorsed ProposalResponsePayload, a commit status, an evaluate Response. Failures
are gRPC statuses with ``gateway.ErrorDetail`` in a ``google.rpc.Status``, as the real Gateway sends them.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NoReturn, Protocol

import grpc
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import (
    chaincode_event_pb2,
    chaincode_pb2,
    proposal_pb2,
    proposal_response_pb2,
    transaction_pb2,
)
from google.protobuf import any_pb2
from google.rpc import status_pb2

from ledger.fabric.identity import P256_ORDER, SigningIdentity
from tests.ledger.fabric_pki import ThrowawayCA

PEER_ADDRESS = "peer0.org1.test:7051"
MSP_ID = "Org1MSP"
CHANNEL = "tradeloom"
CHAINCODE = "checkpoint-anchors"


class ChaincodeRefusal(Exception):
    """The chaincode model threw: the endorsement (or evaluation) fails with this message."""


@dataclass(frozen=True)
class Invocation:
    rpc: str
    tx_id: str
    function: str
    args: list[bytes]


class Chaincode(Protocol):
    def execute(self, invocation: Invocation) -> tuple[bytes, bytes | None]:
        """Simulate: the function's result and an optional event payload; raise ChaincodeRefusal to refuse."""

    def commit(self, invocation: Invocation) -> None:
        """Apply the writes of a transaction that committed as valid."""


class Rejected(Exception):
    """A request the Gateway refuses before any chaincode runs (bad identity, signature or transaction id)."""


@dataclass
class GatewayDouble(gateway_pb2_grpc.GatewayServicer):
    ca: ThrowawayCA
    msp_id: str
    channel: str
    chaincode_name: str
    chaincode: Chaincode
    peer: SigningIdentity
    validation_code: int = transaction_pb2.VALID
    commit_delay: float = 0.0
    block_number: int = 41
    swap_transaction: bool = False  # a misbehaving Gateway: prepares another transaction than the one proposed
    invocations: list[Invocation] = field(default_factory=list)
    submitted: list[str] = field(default_factory=list)
    status_requests: list[str] = field(default_factory=list)
    _endorsed: dict[str, Invocation] = field(default_factory=dict)
    _committed: dict[str, tuple[int, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- checks a Gateway makes ----------------------------------------------------------------------------

    def _certificate(self, creator: bytes) -> x509.Certificate:
        identity = identities_pb2.SerializedIdentity.FromString(creator)
        if identity.mspid != self.msp_id:
            raise Rejected(f"creator MSP {identity.mspid!r} is not {self.msp_id!r}")
        certificate = x509.load_pem_x509_certificate(identity.id_bytes)
        if not self.ca.issued(certificate):
            raise Rejected("creator certificate was not issued by the MSP's CA")
        return certificate

    def _verify(self, creator: bytes, message: bytes, signature: bytes) -> None:
        public_key = self._certificate(creator).public_key()
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        _, s = decode_dss_signature(signature)
        if s > P256_ORDER // 2:
            raise Rejected("signature is not low-S")
        try:
            public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as error:
            raise Rejected("signature does not verify under the creator's certificate") from error

    def _open_proposal(self, rpc: str, tx_id: str, signed: Any) -> tuple[Invocation, Any, Any]:
        proposal = proposal_pb2.Proposal.FromString(signed.proposal_bytes)
        header = common_pb2.Header.FromString(proposal.header)
        channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
        signature_header = common_pb2.SignatureHeader.FromString(header.signature_header)
        self._verify(signature_header.creator, signed.proposal_bytes, signed.signature)
        expected_tx_id = hashlib.sha256(signature_header.nonce + signature_header.creator).hexdigest()
        extension = proposal_pb2.ChaincodeHeaderExtension.FromString(channel_header.extension)
        if (channel_header.tx_id, tx_id) != (expected_tx_id, expected_tx_id):
            raise Rejected("transaction id is not hex(SHA-256(nonce || creator))")
        if channel_header.type != common_pb2.ENDORSER_TRANSACTION or channel_header.channel_id != self.channel:
            raise Rejected("not an endorser transaction on this channel")
        if extension.chaincode_id.name != self.chaincode_name:
            raise Rejected(f"unknown chaincode {extension.chaincode_id.name!r}")
        payload = proposal_pb2.ChaincodeProposalPayload.FromString(proposal.payload)
        spec = chaincode_pb2.ChaincodeInvocationSpec.FromString(payload.input).chaincode_spec
        function, *args = list(spec.input.args)
        invocation = Invocation(rpc, tx_id, function.decode(), args)
        with self._lock:
            self.invocations.append(invocation)
        return invocation, proposal, header

    # --- responses -----------------------------------------------------------------------------------------

    def _prepared_transaction(self, proposal: Any, header: Any, result: bytes, event: bytes | None,
                              tx_id: str) -> Any:
        events = b"" if event is None else chaincode_event_pb2.ChaincodeEvent(
            chaincode_id=self.chaincode_name, tx_id=tx_id, event_name="CheckpointAnchored", payload=event,
        ).SerializeToString()
        action = proposal_pb2.ChaincodeAction(
            response=proposal_response_pb2.Response(status=200, payload=result), events=events,
            chaincode_id=chaincode_pb2.ChaincodeID(name=self.chaincode_name, version="1.0"),
        )
        response_payload = proposal_response_pb2.ProposalResponsePayload(
            proposal_hash=hashlib.sha256(header.channel_header + header.signature_header + proposal.payload).digest(),
            extension=action.SerializeToString(),
        ).SerializeToString()
        endorsement = proposal_response_pb2.Endorsement(
            endorser=self.peer.creator, signature=self.peer.sign(response_payload + self.peer.creator)
        )
        action_payload = transaction_pb2.ChaincodeActionPayload(
            chaincode_proposal_payload=proposal.payload,
            action=transaction_pb2.ChaincodeEndorsedAction(proposal_response_payload=response_payload,
                                                           endorsements=[endorsement]),
        )
        transaction = transaction_pb2.Transaction(actions=[transaction_pb2.TransactionAction(
            header=header.signature_header, payload=action_payload.SerializeToString())])
        if self.swap_transaction:
            channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
            channel_header.tx_id = "0" * 64
            header = common_pb2.Header(channel_header=channel_header.SerializeToString(),
                                       signature_header=header.signature_header)
        payload = common_pb2.Payload(header=header, data=transaction.SerializeToString())
        return common_pb2.Envelope(payload=payload.SerializeToString())

    def _abort(self, context: grpc.ServicerContext, code: grpc.StatusCode, message: str, reason: str) -> NoReturn:
        """End the call the way the Gateway does: a status with per-peer ErrorDetail entries."""
        detail = any_pb2.Any()
        detail.Pack(gateway_pb2.ErrorDetail(address=PEER_ADDRESS, msp_id=self.msp_id, message=reason))
        status = status_pb2.Status(code=code.value[0], message=message, details=[detail])
        context.set_trailing_metadata((("grpc-status-details-bin", status.SerializeToString()),))
        context.abort(code, message)
        raise AssertionError("unreachable: abort raises")

    # --- the Gateway service -------------------------------------------------------------------------------

    def Endorse(self, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            invocation, proposal, header = self._open_proposal("endorse", request.transaction_id,
                                                               request.proposed_transaction)
            result, event = self.chaincode.execute(invocation)
        except Rejected as error:
            self._abort(context, grpc.StatusCode.PERMISSION_DENIED, "access denied", str(error))
        except ChaincodeRefusal as error:
            self._abort(context, grpc.StatusCode.ABORTED,
                        "failed to endorse transaction, see attached details for more info",
                        f"chaincode response 500, {error}")
        with self._lock:
            self._endorsed[invocation.tx_id] = invocation
        envelope = self._prepared_transaction(proposal, header, result, event, invocation.tx_id)
        return gateway_pb2.EndorseResponse(prepared_transaction=envelope)

    def Submit(self, request: Any, context: grpc.ServicerContext) -> Any:
        payload = common_pb2.Payload.FromString(request.prepared_transaction.payload)
        creator = common_pb2.SignatureHeader.FromString(payload.header.signature_header).creator
        tx_id = common_pb2.ChannelHeader.FromString(payload.header.channel_header).tx_id
        try:
            self._verify(creator, request.prepared_transaction.payload, request.prepared_transaction.signature)
        except Rejected as error:
            self._abort(context, grpc.StatusCode.PERMISSION_DENIED, "access denied", str(error))
        with self._lock:
            invocation = self._endorsed.get(tx_id)
            if invocation is None or tx_id != request.transaction_id:
                context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"transaction {tx_id} was not endorsed here")
            self.submitted.append(tx_id)
            self.block_number += 1
            self._committed[tx_id] = (self.validation_code, self.block_number)
        if self.validation_code == transaction_pb2.VALID:
            self.chaincode.commit(invocation)
        return gateway_pb2.SubmitResponse()

    def CommitStatus(self, request: Any, context: grpc.ServicerContext) -> Any:
        status_request = gateway_pb2.CommitStatusRequest.FromString(request.request)
        try:
            self._verify(status_request.identity, request.request, request.signature)
        except Rejected as error:
            self._abort(context, grpc.StatusCode.PERMISSION_DENIED, "access denied", str(error))
        with self._lock:
            self.status_requests.append(status_request.transaction_id)
        deadline = time.monotonic() + self.commit_delay
        while time.monotonic() < deadline and context.is_active():  # a block that takes long to be cut
            time.sleep(0.01)
        code, block_number = self._committed[status_request.transaction_id]
        return gateway_pb2.CommitStatusResponse(result=code, block_number=block_number)

    def Evaluate(self, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            invocation, _, _ = self._open_proposal("evaluate", request.transaction_id, request.proposed_transaction)
            result, _ = self.chaincode.execute(invocation)
        except Rejected as error:
            self._abort(context, grpc.StatusCode.PERMISSION_DENIED, "access denied", str(error))
        except ChaincodeRefusal as error:
            self._abort(context, grpc.StatusCode.UNKNOWN, "evaluate call to endorser returned error",
                        f"chaincode response 500, {error}")
        return gateway_pb2.EvaluateResponse(result=proposal_response_pb2.Response(status=200, payload=result))

    def invoked(self, rpc: str | None = None) -> list[tuple[str, list[bytes]]]:
        """(function, args) of each recorded call, optionally of one rpc ('endorse' or 'evaluate')."""
        return [(i.function, i.args) for i in self.invocations if rpc is None or i.rpc == rpc]


@contextmanager
def serve(double: GatewayDouble, tls: tuple[bytes, bytes] | None = None) -> Iterator[str]:
    """Run ``double`` on a free loopback port (TLS with (key PEM, cert PEM) if given); yields host:port."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    gateway_pb2_grpc.add_GatewayServicer_to_server(double, server)
    address = "127.0.0.1:0"
    port = (server.add_secure_port(address, grpc.ssl_server_credentials([tls])) if tls
            else server.add_insecure_port(address))
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None).wait()
