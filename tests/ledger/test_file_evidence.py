"""Design IP and certificates as evidence: only a salted digest is logged; the owner's bundle proves the file."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from httpx import AsyncClient
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from ledger import verify_cli
from ledger.canonical import EvidenceEntry
from ledger.models import EvidenceRecord
from ledger.sequencer import sequence_waiting
from ledger.signing import log_signer
from ledger.verify import verify_bundle
from tests.factories import make_member
from tradeloom.db import driver_url, make_sessionmaker
from tradeloom.identity.roles import OrgKind, Role
from tradeloom.settings import Settings

DRAWING = b"%PDF-1.7 flange DN50 drawing rev C " + bytes(range(256)) * 40


@pytest.fixture
def owner_engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(driver_url(database_url))
    yield engine
    engine.dispose()


async def test_a_registered_design_is_provable_with_the_file_and_only_with_it(
    committed_client: AsyncClient, engine: AsyncEngine, owner_engine: Engine, test_settings: Settings,
    tmp_path: Path,
) -> None:
    # given a supplier registering a drawing without leaving the file with us
    async with make_sessionmaker(engine)() as setup, setup.begin():
        supplier = await make_member(setup, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER)
        other = await make_member(setup)
    registered = await committed_client.post(
        "/api/v1/ledger/files", headers=supplier.headers,
        data={"kind": "design.registered", "subject": "drawing:FL-DN50-C"},
        files={"file": ("flange.pdf", DRAWING, "application/pdf")},
    )
    assert registered.status_code == 201, registered.text
    entry_id = registered.json()["entry_id"]
    # then the log holds a digest, not the file
    with owner_engine.connect() as conn:
        entry_data = conn.scalar(select(EvidenceRecord.entry_data).where(EvidenceRecord.id == entry_id))
    entry = EvidenceEntry.from_canonical(entry_data)
    assert (entry.kind, entry.payload, entry.payload_digest) == (
        "design.registered", None, registered.json()["payload_digest"])
    assert not (test_settings.data_dir / "evidence-files" / f"{entry_id}.bin").exists()  # another test may keep its own
    # when the log seals it, the owner's bundle carries the salt
    sequence_waiting(owner_engine, log_signer(test_settings), batch_size=100)
    bundle = await committed_client.get(f"/api/v1/ledger/bundles/{entry_id}", headers=supplier.headers)
    assert bundle.status_code == 200
    assert bundle.json()["file_salt"] == registered.json()["salt"]
    key = str(log_signer(test_settings).verifier_key)
    # and it verifies with the drawing, fails with any other file
    assert verify_bundle(bundle.content, pinned_key=key, file=DRAWING).ok
    assert not verify_bundle(bundle.content, pinned_key=key, file=DRAWING + b" ").ok
    # and the offline command agrees
    (tmp_path / "bundle.json").write_bytes(bundle.content)
    (tmp_path / "flange.pdf").write_bytes(DRAWING)
    assert verify_cli.main([str(tmp_path / "bundle.json"), "--file", str(tmp_path / "flange.pdf"), "--key", key]) == 0
    # and another organization cannot fetch it
    assert (await committed_client.get(f"/api/v1/ledger/bundles/{entry_id}", headers=other.headers)).status_code == 404


async def test_empty_files_and_unknown_kinds_are_refused(client: AsyncClient, session: AsyncSession) -> None:
    supplier = await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER)
    empty = await client.post("/api/v1/ledger/files", headers=supplier.headers,
                              data={"kind": "design.registered", "subject": "x"}, files={"file": ("a", b"", "x/y")})
    unknown = await client.post("/api/v1/ledger/files", headers=supplier.headers,
                                data={"kind": "anything", "subject": "x"}, files={"file": ("a", b"1", "x/y")})
    assert (empty.status_code, empty.json()["code"]) == (422, "evidence_file_size")
    assert unknown.status_code == 422
