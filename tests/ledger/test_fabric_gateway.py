"""The Fabric Gateway client against a local gRPC server implementing the published Gateway protos."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from fabric_protos.peer import transaction_pb2

from ledger.fabric.errors import (
    EndorsementFailed,
    EvaluationFailed,
    FabricConfigError,
    FabricTimeout,
    GatewayUnavailable,
    PeerError,
    TransactionInvalid,
)
from ledger.fabric.gateway import FabricGateway, GatewayConfig, gateway_from_settings
from ledger.fabric.identity import P256_ORDER, SigningIdentity, low_s_signature
from tests.ledger.fabric_gateway_double import (
    CHAINCODE,
    CHANNEL,
    MSP_ID,
    PEER_ADDRESS,
    ChaincodeRefusal,
    GatewayDouble,
    Invocation,
    serve,
)
from tests.ledger.fabric_pki import ThrowawayCA, key_pem
from tradeloom.net import free_port
from tradeloom.settings import Settings


class EchoChaincode:
    """Returns its arguments joined by '|'; "Refuse" is refused; "Write" records a committed write."""

    def __init__(self) -> None:
        self.committed: list[tuple[str, list[bytes]]] = []

    def execute(self, invocation: Invocation) -> tuple[bytes, bytes | None]:
        if invocation.function == "Refuse":
            raise ChaincodeRefusal("stale_tree_size: already anchored at size 25")
        return b"|".join(invocation.args), (b"event" if invocation.function == "Write" else None)

    def commit(self, invocation: Invocation) -> None:
        self.committed.append((invocation.function, invocation.args))


@pytest.fixture
def chaincode() -> EchoChaincode:
    return EchoChaincode()


def connect(address: str, identity: SigningIdentity, **options: float) -> FabricGateway:
    return FabricGateway.connect(GatewayConfig(address=address, channel=CHANNEL, chaincode=CHAINCODE, **options),
                                 identity)


class TestSubmit:
    def test_endorses_submits_and_waits_for_the_commit(self, double: GatewayDouble, chaincode: EchoChaincode,
                                                       address: str, identity: SigningIdentity) -> None:
        # when
        with connect(address, identity) as gateway:
            result = gateway.submit("Write", "origin", "10", b"\x00\xff")
        # then
        assert result.result == b"origin|10|\x00\xff"
        assert result.block_number == 42
        assert double.invoked() == [("Write", [b"origin", b"10", b"\x00\xff"])]
        assert double.submitted == [result.transaction_id]
        assert double.status_requests == [result.transaction_id]
        assert chaincode.committed == [("Write", [b"origin", b"10", b"\x00\xff"])]

    def test_each_proposal_has_a_fresh_transaction_id(self, address: str, identity: SigningIdentity) -> None:
        with connect(address, identity) as gateway:
            first, second = gateway.submit("Write", "a"), gateway.submit("Write", "a")
        assert first.transaction_id != second.transaction_id
        assert len(first.transaction_id) == 64

    def test_a_refused_endorsement_raises_with_the_peer_reasons(self, double: GatewayDouble, address: str,
                                                                identity: SigningIdentity) -> None:
        with connect(address, identity) as gateway, pytest.raises(EndorsementFailed) as raised:
            gateway.submit("Refuse", "origin", "10")
        assert raised.value.details == (
            PeerError(PEER_ADDRESS, MSP_ID, "chaincode response 500, stale_tree_size: already anchored at size 25"),
        )
        assert "ABORTED: failed to endorse transaction" in str(raised.value)
        assert "stale_tree_size" in str(raised.value)
        assert double.submitted == []

    def test_never_signs_a_prepared_transaction_other_than_the_proposed_one(self, double: GatewayDouble,
                                                                           address: str,
                                                                           identity: SigningIdentity) -> None:
        double.swap_transaction = True
        with connect(address, identity) as gateway, pytest.raises(EndorsementFailed, match="returned transaction 000"):
            gateway.submit("Write", "origin")
        assert double.submitted == []

    def test_an_invalid_transaction_raises_with_its_validation_code(
        self, double: GatewayDouble, chaincode: EchoChaincode, address: str, identity: SigningIdentity
    ) -> None:
        # given
        double.validation_code = transaction_pb2.MVCC_READ_CONFLICT
        # when
        with connect(address, identity) as gateway, pytest.raises(TransactionInvalid) as raised:
            gateway.submit("Write", "origin", "10")
        # then
        assert raised.value.validation_code == "MVCC_READ_CONFLICT"
        assert raised.value.block_number == 42
        assert raised.value.transaction_id == double.submitted[0]
        assert chaincode.committed == []

    def test_a_commit_that_does_not_come_in_time_raises_a_timeout(self, double: GatewayDouble, address: str,
                                                                 identity: SigningIdentity) -> None:
        double.commit_delay = 5.0
        with connect(address, identity, commit_timeout=0.3) as gateway, pytest.raises(FabricTimeout) as raised:
            gateway.submit("Write", "origin", "10")
        assert raised.value.transaction_id == double.submitted[0]
        assert "commit status" in str(raised.value)

    def test_an_identity_from_another_ca_is_refused(self, address: str) -> None:
        stranger = ThrowawayCA(name="ca.elsewhere.test").identity(MSP_ID, "mallory")
        with connect(address, stranger) as gateway, pytest.raises(EndorsementFailed) as raised:
            gateway.submit("Write", "origin")
        assert raised.value.details[0].message == "creator certificate was not issued by the MSP's CA"

    def test_a_high_s_signature_is_refused(self, monkeypatch: pytest.MonkeyPatch, address: str,
                                           identity: SigningIdentity) -> None:
        # given: the client forgets to normalize (proves the server checks what our client does right)
        def high_s(der_signature: bytes) -> bytes:
            r, s = decode_dss_signature(der_signature)
            return encode_dss_signature(r, max(s, P256_ORDER - s))

        monkeypatch.setattr("ledger.fabric.identity.low_s_signature", high_s)
        # when / then
        with connect(address, identity) as gateway, pytest.raises(EndorsementFailed) as raised:
            gateway.submit("Write", "origin")
        assert raised.value.details[0].message == "signature is not low-S"


class TestEvaluate:
    def test_returns_the_function_result_without_submitting(self, double: GatewayDouble, address: str,
                                                            identity: SigningIdentity) -> None:
        with connect(address, identity) as gateway:
            assert gateway.evaluate("GetLatest", "origin") == b"origin"
        assert double.invoked("evaluate") == [("GetLatest", [b"origin"])]
        assert double.submitted == []

    def test_a_chaincode_error_raises(self, address: str, identity: SigningIdentity) -> None:
        with connect(address, identity) as gateway, pytest.raises(EvaluationFailed) as raised:
            gateway.evaluate("Refuse")
        assert raised.value.details[0].message.endswith("stale_tree_size: already anchored at size 25")


def test_an_unreachable_peer_raises_gateway_unavailable(identity: SigningIdentity) -> None:
    # given: a port nobody listens on
    port = free_port()
    # when / then
    with connect(f"127.0.0.1:{port}", identity, call_timeout=5) as gateway, pytest.raises(GatewayUnavailable):
        gateway.evaluate("GetLatest", "origin")


def test_talks_tls_to_a_peer_certificate_of_the_configured_ca(ca: ThrowawayCA, double: GatewayDouble,
                                                              identity: SigningIdentity) -> None:
    certificate_pem, key = ca.issue("peer0.org1.test", dns_names=("peer0.org1.test",))
    with serve(double, tls=(key_pem(key), certificate_pem)) as address:
        config = GatewayConfig(address=address, channel=CHANNEL, chaincode=CHAINCODE,
                               tls_ca_cert=ca.certificate_pem, tls_server_name="peer0.org1.test")
        with FabricGateway.connect(config, identity) as gateway:
            assert gateway.evaluate("GetLatest", "over-tls") == b"over-tls"


class TestSettings:
    def test_builds_the_client_from_settings_and_pem_files(self, tmp_path, ca: ThrowawayCA, double: GatewayDouble,
                                                           address: str) -> None:
        # given
        certificate_pem, key = ca.issue("tradeloom-anchor@org1.test")
        (tmp_path / "cert.pem").write_bytes(certificate_pem)
        (tmp_path / "key.pem").write_bytes(key_pem(key))
        settings = Settings(fabric_gateway_address=address, fabric_msp_id=MSP_ID, fabric_channel=CHANNEL,
                            fabric_chaincode=CHAINCODE, fabric_cert_path=tmp_path / "cert.pem",
                            fabric_key_path=tmp_path / "key.pem")
        # when
        with gateway_from_settings(settings) as gateway:
            result = gateway.evaluate("GetLatest", "from-settings")
        # then
        assert result == b"from-settings"

    def test_missing_settings_are_named(self) -> None:
        with pytest.raises(FabricConfigError, match="TRADELOOM_FABRIC_GATEWAY_ADDRESS"):
            gateway_from_settings(Settings(fabric_gateway_address=None))

    def test_production_refuses_plaintext(self, tmp_path) -> None:
        settings = Settings(environment="production", fabric_gateway_address="peer0.org1.test:7051",
                            fabric_msp_id=MSP_ID, fabric_cert_path=tmp_path / "cert.pem",
                            fabric_key_path=tmp_path / "key.pem")
        with pytest.raises(FabricConfigError, match="TRADELOOM_FABRIC_TLS_CA_CERT_PATH must be set in production"):
            gateway_from_settings(settings)

    def test_a_key_that_is_not_the_certificates_is_refused(self, ca: ThrowawayCA) -> None:
        certificate_pem, _ = ca.issue("someone")
        _, other_key = ca.issue("someone-else")
        with pytest.raises(FabricConfigError, match="does not belong to the certificate"):
            SigningIdentity(MSP_ID, certificate_pem, other_key)


def test_signatures_are_normalized_to_low_s() -> None:
    r, s = 12345, P256_ORDER - 7  # a high s
    assert decode_dss_signature(low_s_signature(encode_dss_signature(r, s))) == (r, 7)
    assert decode_dss_signature(low_s_signature(encode_dss_signature(r, 7))) == (r, 7)
