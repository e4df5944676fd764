"""The ledger API: plain-text checkpoints and key, leaves, RFC 9162 proofs, bundles, and its 4xx answers."""

import base64
from dataclasses import dataclass

import pytest
from httpx import AsyncClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ledger import log_service
from ledger.checkpoint import Checkpoint, VerifierKey, parse_and_verify
from ledger.merkle import leaf_hash, verify_consistency, verify_inclusion
from ledger.service import EvidenceReceipt
from ledger.signing import LogSigner
from ledger.verify import verify_bundle
from tests.factories import Member, make_member
from tests.ledger.conftest import record_orders, sequence


@dataclass(frozen=True)
class SequencedLog:
    """Twelve entries of the member's org signed at sizes 8 and 12, then one more still waiting."""

    member: Member
    receipts: list[EvidenceReceipt]
    waiting: EvidenceReceipt


@pytest.fixture
async def log(session: AsyncSession, signer: LogSigner) -> SequencedLog:
    member = await make_member(session)
    receipts = await record_orders(session, 8, org_id=member.org.id)
    await sequence(session, signer)
    receipts += await record_orders(session, 4, org_id=member.org.id, first=8)
    await sequence(session, signer)
    [waiting] = await record_orders(session, 1, org_id=member.org.id, first=12)
    return SequencedLog(member, receipts, waiting)


async def signed(client: AsyncClient, signer: LogSigner, tree_size: int | None = None) -> Checkpoint:
    params = {} if tree_size is None else {"tree_size": tree_size}
    response = await client.get("/ledger/checkpoint", params=params)
    assert response.headers["content-type"].startswith("text/plain")
    return parse_and_verify(response.text, signer.verifier_key, expected_origin=signer.origin)


def problem(response_json: dict[str, object]) -> tuple[object, object]:
    return response_json["status"], response_json["code"]


class TestCheckpointAndKey:
    async def test_before_anything_is_sequenced_there_is_no_checkpoint(self, client: AsyncClient) -> None:
        response = await client.get("/ledger/checkpoint")
        assert response.headers["content-type"] == "application/problem+json"
        assert problem(response.json()) == (404, "no_checkpoint_yet")

    async def test_latest_and_historical_checkpoints_are_signed_notes(
        self, client: AsyncClient, log: SequencedLog, signer: LogSigner
    ) -> None:
        assert (await signed(client, signer)).tree_size == 12
        assert (await signed(client, signer, tree_size=8)).tree_size == 8

    async def test_a_size_never_signed_is_404_and_a_negative_one_422(
        self, client: AsyncClient, log: SequencedLog
    ) -> None:
        assert problem((await client.get("/ledger/checkpoint?tree_size=5")).json()) == (404, "checkpoint_not_found")
        assert (await client.get("/ledger/checkpoint?tree_size=-1")).status_code == 422

    async def test_the_key_is_the_verifier_key_of_the_signer(self, client: AsyncClient, signer: LogSigner) -> None:
        response = await client.get("/ledger/key")
        assert response.headers["content-type"].startswith("text/plain")
        assert VerifierKey.parse(response.text) == signer.verifier_key


class TestEntries:
    async def test_a_sequenced_entry_is_public_by_leaf_index(self, client: AsyncClient, log: SequencedLog) -> None:
        # when anyone (no login) asks for leaf 3
        body = (await client.get("/api/v1/ledger/entries/3")).json()
        # then they get the exact leaf data whose hash is the leaf hash
        entry_data = base64.b64decode(body["entry"])
        assert body["leaf_hash"] == log.receipts[3].leaf_hash_hex == leaf_hash(entry_data).hex()
        assert (body["leaf_index"], body["kind"], body["subject"]) == (3, "order.placed", "order:PO-3")

    async def test_an_unsequenced_or_unknown_leaf_is_404(self, client: AsyncClient, log: SequencedLog) -> None:
        assert problem((await client.get("/api/v1/ledger/entries/12")).json()) == (404, "leaf_not_found")
        assert (await client.get("/api/v1/ledger/entries/-1")).status_code == 422


class TestProofs:
    @pytest.mark.parametrize("tree_size", [8, 12])
    async def test_every_inclusion_proof_verifies_against_its_checkpoint(
        self, client: AsyncClient, log: SequencedLog, signer: LogSigner, tree_size: int
    ) -> None:
        checkpoint = await signed(client, signer, tree_size)
        for index in range(tree_size):
            response = await client.get("/api/v1/ledger/proof/inclusion",
                                        params={"index": index, "tree_size": tree_size})
            body = response.json()
            assert (body["leaf_index"], body["tree_size"]) == (index, tree_size)
            path = [bytes.fromhex(node) for node in body["inclusion_path"]]
            verify_inclusion(bytes.fromhex(log.receipts[index].leaf_hash_hex), index, tree_size, path,
                             checkpoint.root_hash)

    async def test_without_a_tree_size_the_proof_is_for_the_latest_checkpoint(
        self, client: AsyncClient, log: SequencedLog
    ) -> None:
        body = (await client.get("/api/v1/ledger/proof/inclusion", params={"index": 0})).json()
        assert (body["tree_size"], len(body["inclusion_path"])) == (12, 4)

    async def test_consistency_proofs_verify_between_checkpoints(
        self, client: AsyncClient, log: SequencedLog, signer: LogSigner
    ) -> None:
        old, new = await signed(client, signer, 8), await signed(client, signer, 12)
        for first, second, length in ((8, 12, 1), (0, 12, 0), (12, 12, 0)):
            body = (await client.get("/api/v1/ledger/proof/consistency",
                                     params={"first": first, "second": second})).json()
            assert (body["tree_size_1"], body["tree_size_2"], len(body["consistency_path"])) == (first, second, length)
        proof = (await client.get("/api/v1/ledger/proof/consistency", params={"first": 8, "second": 12})).json()
        verify_consistency(8, 12, old.root_hash, new.root_hash, [bytes.fromhex(n) for n in proof["consistency_path"]])

    @pytest.mark.parametrize(("path", "params", "status", "code"), [
        ("inclusion", {"index": 0, "tree_size": 13}, 400, "tree_size_out_of_range"),
        ("inclusion", {"index": 12, "tree_size": 12}, 400, "leaf_index_out_of_range"),
        ("inclusion", {"index": 0, "tree_size": 0}, 400, "leaf_index_out_of_range"),
        ("inclusion", {"index": -1}, 422, "validation_failed"),
        ("inclusion", {"index": 2**70}, 422, "validation_failed"),
        ("inclusion", {"index": "x"}, 422, "validation_failed"),
        ("inclusion", {}, 422, "validation_failed"),
        ("consistency", {"first": 8, "second": 13}, 400, "tree_size_out_of_range"),
        ("consistency", {"first": 12, "second": 8}, 400, "tree_sizes_reversed"),
        ("consistency", {"first": -1, "second": 8}, 422, "validation_failed"),
        ("consistency", {"first": 8}, 422, "validation_failed"),
    ])
    async def test_sizes_outside_the_log_are_problem_documents(
        self, client: AsyncClient, log: SequencedLog, path: str, params: dict[str, object], status: int, code: str
    ) -> None:
        response = await client.get(f"/api/v1/ledger/proof/{path}", params=params)
        assert response.headers["content-type"] == "application/problem+json"
        assert problem(response.json()) == (status, code)

    async def test_a_proof_for_a_given_tree_size_is_one_query(
        self, connection: AsyncConnection, session: AsyncSession, log: SequencedLog
    ) -> None:
        statements: list[str] = []

        def listener(conn: object, cursor: object, statement: str, *rest: object) -> None:
            statements.append(statement)

        event.listen(connection.sync_connection, "before_cursor_execute", listener)
        try:
            proof = await log_service.inclusion_proof(session, leaf_index=5, tree_size=12)
        finally:
            event.remove(connection.sync_connection, "before_cursor_execute", listener)
        assert (len(proof.path), len(statements)) == (4, 1)

    async def test_an_empty_log_has_no_proofs_yet(self, client: AsyncClient) -> None:
        response = await client.get("/api/v1/ledger/proof/inclusion", params={"index": 0})
        assert problem(response.json()) == (404, "no_checkpoint_yet")


class TestBundles:
    async def test_a_member_gets_the_bundle_of_its_own_entry_and_it_verifies(
        self, client: AsyncClient, log: SequencedLog, signer: LogSigner
    ) -> None:
        # when
        response = await client.get(f"/api/v1/ledger/bundles/{log.receipts[9].entry_id}",
                                    headers=log.member.headers)
        # then the bundle holds up offline against the pinned key
        report = verify_bundle(response.content, pinned_key=str(signer.verifier_key))
        assert report.ok, report.checks
        assert (response.json()["leaf_index"], response.json()["tree_size"]) == (9, 12)

    async def test_another_organization_cannot_fetch_it_by_entry_id(
        self, client: AsyncClient, session: AsyncSession, log: SequencedLog
    ) -> None:
        outsider = await make_member(session)
        response = await client.get(f"/api/v1/ledger/bundles/{log.receipts[9].entry_id}", headers=outsider.headers)
        assert problem(response.json()) == (404, "evidence_not_found")

    async def test_an_entry_not_yet_sequenced_is_409(self, client: AsyncClient, log: SequencedLog) -> None:
        response = await client.get(f"/api/v1/ledger/bundles/{log.waiting.entry_id}", headers=log.member.headers)
        assert problem(response.json()) == (409, "not_sequenced_yet")
        assert response.headers["retry-after"] == "5"

    async def test_by_entry_id_a_login_is_needed(self, client: AsyncClient, log: SequencedLog) -> None:
        response = await client.get(f"/api/v1/ledger/bundles/{log.receipts[0].entry_id}")
        assert problem(response.json()) == (401, "unauthenticated")

    async def test_by_leaf_index_the_bundle_is_public(
        self, client: AsyncClient, log: SequencedLog, signer: LogSigner
    ) -> None:
        response = await client.get("/api/v1/ledger/entries/11/bundle")
        assert verify_bundle(response.content, pinned_key=str(signer.verifier_key)).ok
