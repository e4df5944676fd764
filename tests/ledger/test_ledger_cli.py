"""``tradeloom ledger verify | sequence | audit`` as an operator runs them."""

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from httpx import AsyncClient
from sqlalchemy import Engine, text
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.signing import LogSigner
from tests.ledger.conftest import record_committed, record_orders, sequence
from tradeloom.cli import main
from tradeloom.jobs import sync_engine
from tradeloom.settings import Settings, get_settings


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, database_url: str, redis_url: str,
           test_settings: Settings) -> Iterator[CliRunner]:
    """The CLI pointed at this worker's database and data dir (so it signs with the test log key)."""
    for name, value in (("DATABASE_URL", database_url), ("REDIS_URL", redis_url),
                        ("DATA_DIR", str(test_settings.data_dir))):
        monkeypatch.setenv(f"TRADELOOM_{name}", value)
    get_settings.cache_clear()
    sync_engine.cache_clear()
    yield CliRunner()
    if sync_engine.cache_info().currsize:
        sync_engine().dispose()
    sync_engine.cache_clear()
    get_settings.cache_clear()


def test_sequence_then_audit_then_tamper(runner: CliRunner, owner_engine: Engine, database_url: str) -> None:
    # given 30 committed entries
    asyncio.run(record_committed(database_url, 30))
    # when they are sequenced once
    sequenced = runner.invoke(main, ["ledger", "sequence", "--once"])
    # then
    assert sequenced.exit_code == 0, sequenced.output
    assert sequenced.output.startswith("sequenced 30 entries in 1 batch(es); tree size 30, root ")
    intact = runner.invoke(main, ["ledger", "audit"])
    assert (intact.exit_code, intact.output.splitlines()[-1]) == (0, "log is intact")
    # when a node is overwritten
    with owner_engine.begin() as conn:
        conn.execute(text("UPDATE ledger_tree_nodes SET hash = :forged WHERE level = 2 AND index = 1"),
                     {"forged": bytes(32)})
    tampered = runner.invoke(main, ["ledger", "audit"])
    # then the audit fails and says where
    assert tampered.exit_code == 1
    assert f"PROBLEM  tree node (level 2, index 1) is stored as {bytes(32).hex()}" in tampered.output
    assert tampered.output.splitlines()[-1] == "1 problem(s) found"


def test_audit_refuses_a_malformed_key(runner: CliRunner) -> None:
    result = runner.invoke(main, ["ledger", "audit", "--key", "not-a-key"])
    assert result.exit_code == 2
    assert "malformed_key" in result.output


async def test_verify_a_downloaded_bundle_offline(
    client: AsyncClient, session: AsyncSession, signer: LogSigner, tmp_path: Path
) -> None:
    # given a bundle downloaded from the API
    await record_orders(session, 5)
    await sequence(session, signer)
    bundle = (await client.get("/api/v1/ledger/entries/2/bundle")).json()
    good, forged = tmp_path / "good.json", tmp_path / "forged.json"
    good.write_text(json.dumps(bundle))
    forged.write_text(json.dumps(bundle | {"leaf_index": 3}))
    key = str(signer.verifier_key)
    # when / then
    verified = CliRunner().invoke(main, ["ledger", "verify", str(good), "--key", key])
    assert (verified.exit_code, verified.output.splitlines()[-1]) == (0, "VERIFIED: every check holds")
    assert CliRunner().invoke(main, ["ledger", "verify", str(forged), "--key", key]).exit_code == 1
    assert CliRunner().invoke(main, ["ledger", "verify", str(tmp_path / "missing.json")]).exit_code == 2
