"""Pushes through the API and the connector page: listed with their counts, retried (202, then sent; a sent one is
409), hidden from other organizations; and the scheduler queueing pushes whose next attempt has come."""

import datetime as dt
import re
import uuid

import pytest
from httpx import AsyncClient
from sqlalchemy import create_engine, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from integrations.connectors import jobs, push
from integrations.connectors.jobs import queue_due_pushes
from integrations.connectors.mapping import profile_mapping
from integrations.connectors.models import Connector, ConnectorPush
from integrations.connectors.sync import Failure, queue_failures
from tests.factories import make_member
from tests.integrations.erp_push_server import PushErp
from tests.integrations.test_connector_api import URL, allow_loopback  # noqa: F401  (fixture)
from tests.integrations.test_connector_push import event, linked, setup
from tests.integrations.test_connectors import OPTIONS
from tests.materials_factories import as_owner
from tests.tradeloom.test_pages import sign_in
from tradeloom.db import driver_url, utcnow
from tradeloom.outbox.models import OutboxEvent
from tradeloom.settings import Settings


@pytest.mark.usefixtures("allow_loopback")
async def test_pushes_are_listed_retried_and_shown_on_the_page(
    client: AsyncClient, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], push_erp: PushErp,
) -> None:
    # given: the order's supplier was never synced, so SAP refused it
    world, connector, order = await setup(session, push_erp, "sap_s4hana", link=False)
    assert await jobs._push_for_event(sessionmaker, event(order), OPTIONS) == ["failed"]
    headers = world.admin.headers
    # when
    await as_owner(session)
    outsider = await make_member(session)
    listed = await client.get(f"{URL}/{connector.id}/pushes", headers=headers)
    hidden = await client.get(f"{URL}/{connector.id}/pushes", headers=outsider.headers)
    (item,) = listed.json()["pushes"]
    stranger_retry = await client.post(f"{URL}/pushes/{item['id']}/retry", headers=outsider.headers)
    await as_owner(session)
    await linked(session, world, connector, "sap_s4hana")
    retried = await client.post(f"{URL}/pushes/{item['id']}/retry", headers=headers)
    status = await push.run_push(sessionmaker, org_id=world.buyer.org.id, push_id=uuid.UUID(item["id"]),
                                 options=OPTIONS)
    again = await client.post(f"{URL}/pushes/{item['id']}/retry", headers=headers)
    # then
    assert listed.json()["counts"] == {"pending": 0, "sent": 0, "failed": 1}
    assert (item["status"], item["document_number"], item["kind"]) == ("failed", order.number, "purchase_order")
    assert (hidden.status_code, stranger_retry.status_code) == (404, 404)
    assert retried.status_code == 202 and retried.json()["status"] == "pending"
    topics = (await session.scalars(select(OutboxEvent.topic).where(OutboxEvent.org_id == world.buyer.org.id))).all()
    assert push.PUSH_REQUESTED in topics
    assert status == "sent"
    assert (again.status_code, again.json()["code"]) == (409, "connector_push_sent")
    # and the connector page shows the sync state of pushes
    await sign_in(client, world.admin.user.email)
    page = await client.get(f"/integrations/connectors/{connector.id}")
    assert page.status_code == 200
    assert order.number in page.text and "4500000001" in page.text and 'class="push-sent"' in page.text
    stored = re.search(r"已加密保存： ([a-z_, ]+)<", page.text)  # the names only, in Chinese by default
    assert stored is not None and stored.group(1) == ("acct_id, app_key, app_secret, database, from_account, password, "
                                                     "to_account, username")
    assert "s3cret" not in page.text and "tlsec1" not in page.text


@pytest.mark.usefixtures("allow_loopback")
async def test_the_error_queue_retry_pulls_again_for_a_fetch_error(
    client: AsyncClient, session: AsyncSession, push_erp: PushErp,
) -> None:
    # given a queued fetch error (their system was down during a pull)
    world, connector, _order = await setup(session, push_erp, "sap_s4hana")
    await as_owner(session)
    await queue_failures(session, connector, [Failure("fetch", "connector_unavailable", "HTTP 500")])
    await session.flush()
    error = (await client.get(f"{URL}/{connector.id}/errors", headers=world.admin.headers)).json()[0]
    # when
    retried = await client.post(f"{URL}/errors/{error['id']}/retry", headers=world.admin.headers)
    # then a sync is requested
    assert retried.status_code == 202
    topics = (await session.scalars(select(OutboxEvent.topic).where(OutboxEvent.org_id == world.buyer.org.id))).all()
    assert "integration.connector_sync_requested" in topics


async def test_due_pushes_are_queued_once(test_settings: Settings, push_erp: PushErp) -> None:
    # given: queue_due_pushes runs as the owner on its own connection, so commit the rows first
    engine = create_engine(driver_url(str(test_settings.database_url)))
    org_id, connector_id, push_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    try:
        with engine.begin() as conn:
            conn.execute(Connector.__table__.insert().values(  # type: ignore[attr-defined]
                id=connector_id, org_id=org_id, name="sap-prod", profile="sap_s4hana", base_url=push_erp.url,
                credentials={}, mapping_yaml=profile_mapping("sap_s4hana"), schedule_minutes=None, is_active=True,
                last_summary={}, consecutive_failures=0, version=1))
            conn.execute(ConnectorPush.__table__.insert().values(  # type: ignore[attr-defined]
                id=push_id, org_id=org_id, connector_id=connector_id, kind="purchase_order", object_id=uuid.uuid4(),
                document_number="PO-1", topic="order.confirmed", status="pending", attempts=2,
                next_attempt_at=utcnow() - dt.timedelta(seconds=1), updated_at=utcnow()))
        # when
        first, second = queue_due_pushes(engine), queue_due_pushes(engine)
        # then
        with engine.begin() as conn:
            events = conn.execute(select(OutboxEvent.topic, OutboxEvent.payload)
                                  .where(OutboxEvent.org_id == org_id)).all()
            next_attempt = conn.execute(select(ConnectorPush.next_attempt_at)
                                        .where(ConnectorPush.id == push_id)).scalar()
        assert (first, second) == (1, 0)
        assert [(topic, payload) for topic, payload in events] == [(push.PUSH_REQUESTED, {"push_id": str(push_id)})]
        assert next_attempt is not None and next_attempt > utcnow()
    finally:
        with engine.begin() as conn:
            conn.execute(OutboxEvent.__table__.delete().where(OutboxEvent.org_id == org_id))  # type: ignore[attr-defined]
            conn.execute(Connector.__table__.delete().where(Connector.id == connector_id))  # type: ignore[attr-defined]
        engine.dispose()
