"""Fabric transaction proposals as the Gateway expects them, built from the published protos.

A proposal is ``Proposal{header, payload}`` where the header holds a ``ChannelHeader`` (endorser transaction,
channel, transaction id, time, the chaincode name as its extension) and a ``SignatureHeader`` (creator and a
fresh nonce), and the payload a ``ChaincodeProposalPayload`` around the ``ChaincodeInvocationSpec`` whose
arguments are the function name followed by its arguments. The creator signs the proposal bytes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fabric_protos.common import common_pb2
from fabric_protos.peer import chaincode_pb2, proposal_pb2, proposal_response_pb2, transaction_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from ledger.fabric.identity import SigningIdentity, transaction_id

NONCE_SIZE = 24


@dataclass(frozen=True)
class SignedProposal:
    """A signed proposal ready for Endorse or Evaluate, with its transaction id."""

    transaction_id: str
    proposal: proposal_pb2.SignedProposal


def _serialized(message: Any) -> bytes:
    return bytes(message.SerializeToString())


def _chaincode_proposal_payload(chaincode: str, function: str, args: Sequence[str | bytes]) -> bytes:
    chaincode_input = chaincode_pb2.ChaincodeInput(
        args=[item.encode() if isinstance(item, str) else item for item in (function, *args)]
    )
    spec = chaincode_pb2.ChaincodeSpec(
        type=chaincode_pb2.ChaincodeSpec.NODE, chaincode_id=chaincode_pb2.ChaincodeID(name=chaincode),
        input=chaincode_input,
    )
    invocation = chaincode_pb2.ChaincodeInvocationSpec(chaincode_spec=spec)
    return _serialized(proposal_pb2.ChaincodeProposalPayload(input=_serialized(invocation)))


def _header(identity: SigningIdentity, *, channel: str, chaincode: str, tx_id: str, nonce: bytes) -> bytes:
    timestamp = Timestamp()
    timestamp.GetCurrentTime()
    extension = proposal_pb2.ChaincodeHeaderExtension(chaincode_id=chaincode_pb2.ChaincodeID(name=chaincode))
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.ENDORSER_TRANSACTION, tx_id=tx_id, timestamp=timestamp, channel_id=channel,
        extension=_serialized(extension), epoch=0,
    )
    signature_header = common_pb2.SignatureHeader(creator=identity.creator, nonce=nonce)
    return _serialized(
        common_pb2.Header(channel_header=_serialized(channel_header), signature_header=_serialized(signature_header))
    )


def build_proposal(
    identity: SigningIdentity, *, channel: str, chaincode: str, function: str, args: Sequence[str | bytes]
) -> SignedProposal:
    """A signed proposal to call ``function(*args)`` of ``chaincode`` on ``channel``."""
    nonce = os.urandom(NONCE_SIZE)
    tx_id = transaction_id(nonce, identity.creator)
    proposal = proposal_pb2.Proposal(
        header=_header(identity, channel=channel, chaincode=chaincode, tx_id=tx_id, nonce=nonce),
        payload=_chaincode_proposal_payload(chaincode, function, args),
    )
    proposal_bytes = _serialized(proposal)
    signed = proposal_pb2.SignedProposal(proposal_bytes=proposal_bytes, signature=identity.sign(proposal_bytes))
    return SignedProposal(tx_id, signed)


def sign_envelope(identity: SigningIdentity, envelope: common_pb2.Envelope) -> common_pb2.Envelope:
    """The prepared transaction from Endorse, signed by the creator for Submit."""
    return common_pb2.Envelope(payload=envelope.payload, signature=identity.sign(envelope.payload))


@dataclass(frozen=True)
class PreparedTransaction:
    """What a prepared transaction says: which transaction it is and what the chaincode function returned."""

    transaction_id: str
    result: bytes


def read_prepared_transaction(envelope: common_pb2.Envelope) -> PreparedTransaction:
    """Decode the transaction id and the chaincode's response payload of a prepared transaction."""
    payload = common_pb2.Payload.FromString(envelope.payload)
    channel_header = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
    transaction = transaction_pb2.Transaction.FromString(payload.data)
    if not transaction.actions:
        raise ValueError("the prepared transaction has no chaincode action")
    action_payload = transaction_pb2.ChaincodeActionPayload.FromString(transaction.actions[0].payload)
    response_payload = proposal_response_pb2.ProposalResponsePayload.FromString(
        action_payload.action.proposal_response_payload
    )
    chaincode_action = proposal_pb2.ChaincodeAction.FromString(response_payload.extension)
    return PreparedTransaction(channel_header.tx_id, bytes(chaincode_action.response.payload))
