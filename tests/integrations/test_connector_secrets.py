"""Connector credentials at rest: sealed with AES-256-GCM under TRADELOOM_SECRETS_KEY, bound to their row, masked
by the API, opened only to sign in; key rotation by key id; plain rows from before are sealed by a reseal."""

import base64
import importlib
import uuid
from dataclasses import replace

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from httpx import AsyncClient
from sqlalchemy import create_engine, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.connectors import service
from integrations.connectors.models import Connector
from integrations.connectors.secrets import credentials_box, open_credentials, reseal_credentials
from tests.factories import make_member
from tests.integrations.erp_server import FakeErp
from tests.integrations.test_connector_api import URL, allow_loopback, created  # noqa: F401  (fixture)
from tests.integrations.test_connectors import OPTIONS, add_connector
from tradeloom.db import driver_url
from tradeloom.secret_box import SecretBox, SecretBoxError, is_sealed
from tradeloom.settings import Settings

OLD = "old:" + base64.b64encode(b"o" * 32).decode()
NEW = "new:" + base64.b64encode(b"n" * 32).decode()


class TestSecretBox:
    def test_a_sealed_value_opens_only_in_its_own_context(self) -> None:
        box = SecretBox.from_keyring(NEW)
        sealed = box.seal("s3cret", context="connector:1:password")
        assert is_sealed(sealed) and "s3cret" not in sealed and sealed.startswith("tlsec1:new:")
        assert box.open(sealed, context="connector:1:password") == "s3cret"
        with pytest.raises(SecretBoxError):
            box.open(sealed, context="connector:2:password")

    def test_rotation_new_key_first_opens_old_values_and_reseals_them(self) -> None:
        # given
        sealed_before = SecretBox.from_keyring(OLD).seal("s3cret", context="c")
        rotated = SecretBox.from_keyring(f"{NEW},{OLD}")
        # when
        resealed = rotated.reseal(sealed_before, context="c")
        # then
        assert rotated.open(sealed_before, context="c") == "s3cret"
        assert resealed.startswith("tlsec1:new:") and rotated.open(resealed, context="c") == "s3cret"
        with pytest.raises(SecretBoxError, match="no secrets key 'old'"):
            SecretBox.from_keyring(NEW).open(sealed_before, context="c")

    @pytest.mark.parametrize("keyring", ["", "k1:short", "k1:not base64!", "bad id:" + "A" * 44])
    def test_unusable_keys_are_refused(self, keyring: str) -> None:
        with pytest.raises(SecretBoxError):
            SecretBox.from_keyring(keyring)

    def test_a_tampered_value_does_not_open(self) -> None:
        box = SecretBox.from_keyring(NEW)
        sealed = box.seal("s3cret", context="c")
        raw = bytearray(base64.b64decode(sealed.split(":", 2)[2]))
        raw[-1] ^= 1
        with pytest.raises(SecretBoxError):
            box.open("tlsec1:new:" + base64.b64encode(bytes(raw)).decode(), context="c")

    def test_reseal_seals_plain_values_from_before_encryption(self) -> None:
        box, connector_id = SecretBox.from_keyring(NEW), uuid.uuid4()
        stored = reseal_credentials(box, connector_id, {"username": "tradeloom", "password": "s3cret"})
        assert all(is_sealed(value) for value in stored.values())
        assert open_credentials(box, connector_id, stored) == {"username": "tradeloom", "password": "s3cret"}


@pytest.mark.usefixtures("allow_loopback")
class TestStoredCredentials:
    async def test_the_row_holds_sealed_values_and_the_api_shows_names_only(
        self, client: AsyncClient, session: AsyncSession, erp: FakeErp,
    ) -> None:
        # given
        admin = await make_member(session)
        # when
        connector = await created(client, admin, erp)
        shown = await client.get(f"{URL}/{connector['id']}", headers=admin.headers)
        # then
        stored = await session.scalar(select(Connector.credentials).where(Connector.id == uuid.UUID(connector["id"])))
        assert stored is not None and set(stored) == {"database", "username", "password"}
        assert all(value.startswith("tlsec1:test1:") for value in stored.values())
        assert "s3cret" not in str(stored)
        assert shown.json()["credentials"] == {"database": "********", "password": "********",
                                               "username": "********"}
        assert "s3cret" not in shown.text and "tlsec1" not in shown.text
        tested = await client.post(f"{URL}/{connector['id']}/test", headers=admin.headers)
        assert tested.json() == {"ok": True, "message": "signed in as uid 7"}

    async def test_a_value_copied_into_another_connector_does_not_open(
        self, client: AsyncClient, session: AsyncSession, erp: FakeErp,
    ) -> None:
        # given: connector B's password replaced by connector A's sealed one (someone with table access)
        admin = await make_member(session)
        first = await created(client, admin, erp)
        second = await created(client, admin, erp, name="odoo-test")
        stolen = await session.scalar(select(Connector.credentials).where(Connector.id == uuid.UUID(first["id"])))
        assert stolen is not None
        await session.execute(update(Connector).where(Connector.id == uuid.UUID(second["id"]))
                              .values(credentials=stolen))
        # when
        tested = await client.post(f"{URL}/{second['id']}/test", headers=admin.headers)
        # then
        assert tested.json()["ok"] is False
        assert "cannot be decrypted" in tested.json()["message"]

    async def test_a_rotated_out_key_makes_the_connection_check_say_so(
        self, session: AsyncSession, erp: FakeErp,
    ) -> None:
        # given: credentials sealed under the test key, then only another key configured
        admin = await make_member(session)
        connector = await add_connector(session, admin, erp, "odoo")
        # when
        check = await service.test_connection(session, connector_id=connector.id,
                                              options=replace(OPTIONS, keyring=NEW))
        # then
        assert check.ok is False and "no secrets key 'test1'" in check.message


def test_migration_0130_seals_plain_rows_once_and_its_downgrade_opens_them(test_settings: Settings) -> None:
    # given a connector stored before encryption (plain values), committed: the migration runs as the owner
    migration = importlib.import_module("migrations.versions.0130_seal_connector_credentials")
    engine = create_engine(driver_url(str(test_settings.database_url)))
    connector_id, table = uuid.uuid4(), Connector.__table__  # type: ignore[attr-defined]
    plain = {"username": "tradeloom", "password": "s3cret"}
    try:
        with engine.begin() as conn:
            conn.execute(table.insert().values(
                id=connector_id, org_id=uuid.uuid4(), name="sap-legacy", profile="sap_s4hana",
                base_url="https://s4.example.com", credentials=plain, mapping_yaml="pulls: []",
                is_active=False, last_summary={}, consecutive_failures=0, version=1))

        def run(step: str) -> dict[str, str]:
            with engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
                getattr(migration, step)()
            with engine.begin() as conn:
                return dict(conn.execute(select(table.c.credentials).where(table.c.id == connector_id)).scalar_one())

        # when
        sealed = run("upgrade")
        again = run("upgrade")
        opened = run("downgrade")
        # then
        assert all(value.startswith("tlsec1:test1:") for value in sealed.values()) and again == sealed
        assert open_credentials(credentials_box(), connector_id, sealed) == plain
        assert opened == plain
    finally:
        with engine.begin() as conn:
            conn.execute(table.delete().where(table.c.id == connector_id))
        engine.dispose()
