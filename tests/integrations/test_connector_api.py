"""The connector API: mappings validated on save, test connection, pull now, error queue, tenants apart,
and the scheduler queueing due syncs."""

import datetime as dt
import uuid
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import create_engine, select
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.connectors.jobs import queue_due_syncs
from integrations.connectors.mapping import profile_mapping
from integrations.connectors.models import Connector
from tests.factories import Member, make_member
from tests.integrations.erp_server import FakeErp
from tradeloom.db import driver_url, utcnow
from tradeloom.outbox.models import OutboxEvent
from tradeloom.settings import Settings

URL = "/api/v1/connectors"


@pytest.fixture
def allow_loopback(client: AsyncClient, test_settings: Settings) -> None:
    app = client._transport.app  # type: ignore[attr-defined]
    app.state.settings = test_settings.model_copy(update={"connector_allowed_hosts": ["127.0.0.1"],
                                                          "connector_retry_seconds": 0})


def body(erp: FakeErp, **overrides: Any) -> dict[str, Any]:
    return {"name": "odoo-prod", "profile": "odoo", "base_url": erp.url, "mapping_yaml": profile_mapping("odoo"),
            "credentials": {"database": "prod", "username": "tradeloom", "password": "s3cret"}} | overrides


async def created(client: AsyncClient, admin: Member, erp: FakeErp, **overrides: Any) -> dict[str, Any]:
    response = await client.post(URL, json=body(erp, **overrides), headers=admin.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.mark.usefixtures("allow_loopback")
class TestConnectorApi:
    async def test_a_connector_is_saved_without_showing_its_credentials(
        self, client: AsyncClient, session: AsyncSession, erp: FakeErp,
    ) -> None:
        # given
        admin = await make_member(session)
        # when
        connector = await created(client, admin, erp)
        tested = await client.post(f"{URL}/{connector['id']}/test", headers=admin.headers)
        # then
        assert "credentials" not in connector and connector["version"] == 1
        assert tested.json() == {"ok": True, "message": "signed in as uid 7"}

    async def test_a_bad_mapping_is_a_problem_and_nothing_is_saved(
        self, client: AsyncClient, session: AsyncSession, erp: FakeErp,
    ) -> None:
        # given
        admin = await make_member(session)
        # when
        response = await client.post(URL, json=body(erp, mapping_yaml="pulls:\n  - kind: invoices\n"),
                                     headers=admin.headers)
        listed = await client.get(URL, headers=admin.headers)
        # then
        problem = response.json()
        assert (response.status_code, problem["code"]) == (422, "connector_mapping_invalid")
        assert "/pulls/0/kind" in [error["pointer"] for error in problem["errors"]]
        assert listed.json() == []

    async def test_internal_targets_outside_the_allow_list_are_refused(
        self, client: AsyncClient, session: AsyncSession, erp: FakeErp,
    ) -> None:
        admin = await make_member(session)
        response = await client.post(URL, json=body(erp, base_url="http://10.0.0.7:8069"), headers=admin.headers)
        assert (response.status_code, response.json()["code"]) == (422, "connector_target_forbidden")

    async def test_sync_now_is_queued_and_tenants_stay_apart(
        self, client: AsyncClient, session: AsyncSession, erp: FakeErp,
    ) -> None:
        # given
        admin = await make_member(session)
        stranger = await make_member(session)
        connector = await created(client, admin, erp)
        # when
        queued = await client.post(f"{URL}/{connector['id']}/sync", headers=admin.headers)
        foreign = await client.get(f"{URL}/{connector['id']}/errors", headers=stranger.headers)
        # then
        assert queued.status_code == 202
        event = (await session.scalars(select(OutboxEvent).where(
            OutboxEvent.topic == "integration.connector_sync_requested"))).one()
        assert event.payload == {"connector_id": connector["id"]}
        assert (foreign.status_code, foreign.json()["code"]) == (404, "connector_not_found")

    async def test_an_update_needs_the_current_version(
        self, client: AsyncClient, session: AsyncSession, erp: FakeErp,
    ) -> None:
        # given
        admin = await make_member(session)
        connector = await created(client, admin, erp)
        # when
        changed = await client.put(f"{URL}/{connector['id']}", json=body(erp, schedule_minutes=30, credentials=None),
                                   headers=admin.headers | {"If-Match": '"1"'})
        stale = await client.put(f"{URL}/{connector['id']}", json=body(erp),
                                 headers=admin.headers | {"If-Match": '"1"'})
        # then
        assert (changed.status_code, changed.json()["schedule_minutes"], changed.json()["version"]) == (200, 30, 2)
        assert stale.status_code == 412


class TestScheduler:
    async def test_due_connectors_are_queued_once(self, session: AsyncSession, test_settings: Settings,
                                                   erp: FakeErp) -> None:
        # given: queue_due_syncs runs as the owner on its own connection, so commit the connector first
        engine = create_engine(driver_url(str(test_settings.database_url)))
        org_id = uuid.uuid4()
        connector_id = uuid.uuid4()
        try:
            with engine.begin() as conn:
                conn.execute(Connector.__table__.insert().values(  # type: ignore[attr-defined]
                    id=connector_id, org_id=org_id, name="odoo-prod", profile="odoo", base_url=erp.url,
                    credentials={}, mapping_yaml=profile_mapping("odoo"), schedule_minutes=15, is_active=True,
                    next_sync_at=utcnow() - dt.timedelta(minutes=1), last_summary={}, consecutive_failures=0,
                    version=1))
            # when
            first, second = queue_due_syncs(engine), queue_due_syncs(engine)
            # then
            with engine.begin() as conn:
                topics = conn.execute(select(OutboxEvent.topic).where(OutboxEvent.org_id == org_id)).scalars().all()
                next_sync = conn.execute(select(Connector.next_sync_at).where(Connector.id == connector_id)).scalar()
            assert (first, second, topics) == (1, 0, ["integration.connector_sync_requested"])
            assert next_sync is not None and next_sync > utcnow()
        finally:
            with engine.begin() as conn:
                conn.execute(OutboxEvent.__table__.delete().where(OutboxEvent.org_id == org_id))  # type: ignore[attr-defined]
                conn.execute(Connector.__table__.delete().where(Connector.id == connector_id))  # type: ignore[attr-defined]
            engine.dispose()
