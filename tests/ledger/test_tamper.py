"""Tamper evidence: an entry, a tree node or a checkpoint edited in the database (as its owner) is caught
both by offline bundle verification and by the audit."""

import base64
import re

import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.audit import AuditReport, audit_log
from ledger.merkle import leaf_hash
from ledger.signing import LogSigner
from ledger.verify import CheckName, verify_bundle
from tests.ledger.conftest import record_orders, sequence

LEAF = 5  # its audit path in the tree of 12: leaf 4, node (1, 3), node (2, 0), node (2, 2)


@pytest.fixture
async def sequenced(session: AsyncSession, signer: LogSigner) -> None:
    """Twelve entries, signed at tree sizes 8 and 12."""
    await record_orders(session, 8)
    await sequence(session, signer)
    await record_orders(session, 4, first=8)
    await sequence(session, signer)


async def audit(session: AsyncSession, signer: LogSigner) -> AuditReport:
    """The audit as owner: call it before any request, which leaves the test's transaction in the app role."""
    return await session.run_sync(
        lambda sync_session: audit_log(sync_session.connection(), signer.verifier_key, origin=signer.origin))


async def failed_checks(client: AsyncClient, signer: LogSigner) -> list[CheckName]:
    bundle = await client.get(f"/api/v1/ledger/entries/{LEAF}/bundle")
    return verify_bundle(bundle.content, pinned_key=str(signer.verifier_key)).failed()


async def test_an_untouched_log_passes_both(
    client: AsyncClient, session: AsyncSession, signer: LogSigner, sequenced: None
) -> None:
    report = await audit(session, signer)
    assert (report.problems, len(report.checked)) == ([], 4)
    assert await failed_checks(client, signer) == []


async def test_an_edited_entry_is_caught(
    client: AsyncClient, session: AsyncSession, signer: LogSigner, sequenced: None
) -> None:
    # when someone with database access changes the order total of the entry at leaf 5
    await session.execute(text(
        "UPDATE evidence_entries SET entry_data = convert_to(replace(convert_from(entry_data, 'UTF8'),"
        " '1200.5000', '9200.5000'), 'UTF8') WHERE leaf_index = :leaf"), {"leaf": LEAF})
    # then the audit names the entry
    [problem] = (await audit(session, signer)).problems
    assert re.fullmatch(rf"entry id \d+ \(leaf index {LEAF}\): stored leaf hash [0-9a-f]{{64}}, "
                        r"but its data hashes to [0-9a-f]{64}", problem)
    # and its bundle no longer proves inclusion
    assert await failed_checks(client, signer) == [CheckName.INCLUSION_PROOF]


async def test_an_entry_edited_together_with_its_leaf_hash_is_caught(
    client: AsyncClient, session: AsyncSession, signer: LogSigner, sequenced: None
) -> None:
    # given a forger who also recomputes the leaf hash
    data = (await session.execute(text("SELECT entry_data FROM evidence_entries WHERE leaf_index = :leaf"),
                                  {"leaf": LEAF})).scalar_one().replace(b"1200.5000", b"9200.5000")
    await session.execute(text("UPDATE evidence_entries SET entry_data = :data, leaf_hash = :hash "
                               "WHERE leaf_index = :leaf"), {"data": data, "hash": leaf_hash(data), "leaf": LEAF})
    # then the audit finds the nodes above it, the frontier and both signed roots disagree with the leaves
    problems = (await audit(session, signer)).problems
    expected = ["tree node (level 1, index 2) is stored as ", "tree node (level 2, index 1) is stored as ",
                "tree node (level 3, index 0) is stored as ", "sequencer state says tree size 12 with frontier ",
                "checkpoint at tree size 8: signed root ", "checkpoint at tree size 12: signed root "]
    assert [problem[:len(start)] for problem, start in zip(problems, expected, strict=True)] == expected
    assert await failed_checks(client, signer) == [CheckName.INCLUSION_PROOF]


async def test_an_edited_tree_node_is_caught(
    client: AsyncClient, session: AsyncSession, signer: LogSigner, sequenced: None
) -> None:
    # when node (1, 3), on leaf 5's audit path, is overwritten
    await session.execute(text("UPDATE ledger_tree_nodes SET hash = :forged WHERE level = 1 AND index = 3"),
                          {"forged": bytes(32)})
    # then
    [problem] = (await audit(session, signer)).problems
    assert problem.startswith(f"tree node (level 1, index 3) is stored as {bytes(32).hex()}; the leaves give ")
    assert await failed_checks(client, signer) == [CheckName.INCLUSION_PROOF]


async def test_an_edited_checkpoint_is_caught(
    client: AsyncClient, session: AsyncSession, signer: LogSigner, sequenced: None
) -> None:
    # when the latest note is made to claim another root
    forged_root = base64.b64encode(bytes(32)).decode()
    note = (await session.execute(text("SELECT note FROM ledger_checkpoints WHERE tree_size = 12"))).scalar_one()
    forged = "\n".join([*note.split("\n")[:2], forged_root, *note.split("\n")[3:]])
    await session.execute(text("UPDATE ledger_checkpoints SET note = :note WHERE tree_size = 12"), {"note": forged})
    # then the audit says which checkpoint and why
    [problem] = (await audit(session, signer)).problems
    assert problem.startswith("checkpoint at tree size 12: bad_signature: ")
    # and the bundle's checkpoint signature fails
    assert await failed_checks(client, signer) == [CheckName.CHECKPOINT_SIGNATURE]
