"""Fixtures for the Fabric tests: a throwaway CA, our client identity, and the local Gateway server.

A test module provides the ``chaincode`` fixture: what the server's chaincode model does.
"""

from collections.abc import Iterator

import pytest

from ledger.fabric.identity import SigningIdentity
from tests.ledger.fabric_gateway_double import CHAINCODE, CHANNEL, MSP_ID, Chaincode, GatewayDouble, serve
from tests.ledger.fabric_pki import ThrowawayCA


@pytest.fixture
def ca() -> ThrowawayCA:
    return ThrowawayCA()


@pytest.fixture
def identity(ca: ThrowawayCA) -> SigningIdentity:
    return ca.identity(MSP_ID, "tradeloom-anchor@org1.test")


@pytest.fixture
def double(ca: ThrowawayCA, chaincode: Chaincode) -> GatewayDouble:
    return GatewayDouble(ca=ca, msp_id=MSP_ID, channel=CHANNEL, chaincode_name=CHAINCODE, chaincode=chaincode,
                         peer=ca.identity(MSP_ID, "peer0.org1.test"))


@pytest.fixture
def address(double: GatewayDouble) -> Iterator[str]:
    with serve(double) as address:
        yield address
