"""Ledger fixtures. The sequenced log: the test log's signer, recorded entries, a sequencer on the test's
transaction. Fabric: a throwaway CA, our client identity, and the local Gateway server (a test module
provides the ``chaincode`` fixture: what the server's chaincode model does).
"""

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.fabric.identity import SigningIdentity
from ledger.sequencer import SequencedBatch, sequence_batch
from ledger.service import EvidenceReceipt, record_evidence
from ledger.signing import LogSigner, log_signer
from tests.ledger.fabric_gateway_double import CHAINCODE, CHANNEL, MSP_ID, Chaincode, GatewayDouble, serve
from tests.ledger.fabric_pki import ThrowawayCA
from tradeloom.db import driver_url, make_engine, make_sessionmaker
from tradeloom.settings import Settings

LOG_TABLES = "evidence_entries, ledger_tree_nodes, ledger_checkpoints, ledger_sequencer_state, outbox"


@pytest.fixture(scope="session")
def signer(test_settings: Settings) -> LogSigner:
    """The key the app under test serves and signs with (made once in the test data dir)."""
    return log_signer(test_settings)


async def record_orders(session: AsyncSession, count: int, *, org_id: uuid.UUID | None = None,
                        first: int = 0) -> list[EvidenceReceipt]:
    """``count`` 'order.placed' entries, recorded as the owner (setup, not the code under test)."""
    org_id = org_id or uuid.uuid4()
    return [
        await record_evidence(session, org_id=org_id, kind="order.placed", subject=f"order:PO-{number}",
                              payload={"lines": number, "total": "1200.5000"})
        for number in range(first, first + count)
    ]


async def sequence(session: AsyncSession, signer: LogSigner, *, batch_size: int = 1000) -> list[SequencedBatch]:
    """Run the sequencer on the test's own transaction until nothing is waiting."""
    batches: list[SequencedBatch] = []
    while batch := await session.run_sync(
        lambda sync_session: sequence_batch(sync_session.connection(), signer, batch_size=batch_size)
    ):
        batches.append(batch)
    return batches


@pytest.fixture
def owner_engine(database_url: str) -> Iterator[Engine]:
    """An owner engine for tests that commit (concurrent sequencers); the log tables are emptied afterwards."""
    engine = create_engine(driver_url(database_url), pool_size=8)
    yield engine
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {LOG_TABLES}"))
    engine.dispose()


async def record_committed(database_url: str, count: int, *, first: int = 0) -> None:
    """``count`` entries, each committed in its own transaction, as business requests would."""
    engine = make_engine(database_url, pool_size=1)
    try:
        for number in range(first, first + count):
            async with make_sessionmaker(engine)() as session, session.begin():
                await record_evidence(session, org_id=uuid.uuid4(), kind="order.placed", subject=f"order:{number}",
                                      payload={"lines": number})
    finally:
        await engine.dispose()


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
