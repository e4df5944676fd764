"""The connector API: mappings validated on save, test connection, pull now, error queue, tenants apart,
and the scheduler queueing due syncs."""

import datetime as dt
import uuid
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import create_engine, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from commerce.orders.models import PurchaseOrder
from integrations.bulk.service import run_bulk
from integrations.connectors.jobs import queue_due_syncs
from integrations.connectors.mapping import profile_mapping
from integrations.connectors.models import Connector
from integrations.external_ids.service import Link, ObjectType, record_links
from tests.factories import Member, make_member
from tests.integrations.erp_server import FakeErp
from tests.orders_factories import make_world
from tradeloom.db import driver_url, utcnow
from tradeloom.identity.roles import Role
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
        assert connector["credentials"] == {"database": "********", "password": "********", "username": "********"}
        assert connector["version"] == 1
        assert tested.json() == {"ok": True, "message": "signed in as uid 7"}

    async def test_a_bad_mapping_is_a_problem_and_nothing_is_saved(
        self, client: AsyncClient, session: AsyncSession, erp: FakeErp,
    ) -> None:
        # given
        admin = await make_member(session)
        # when
        response = await client.post(URL, json=body(erp, mapping_yaml="pulls:\n  - kind: fapiaos\n"),
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


IDOC = """<?xml version="1.0" encoding="UTF-8"?>
<ORDERS05>
  <IDOC BEGIN="1">
    <EDI_DC40 SEGMENT="1"><DOCNUM>0000000000123456</DOCNUM><IDOCTYP>ORDERS05</IDOCTYP><MESTYP>ORDERS</MESTYP></EDI_DC40>
    <E1EDK01 SEGMENT="1"><CURCY>CNY</CURCY><BELNR>4500000017</BELNR></E1EDK01>
    <E1EDKA1 SEGMENT="1"><PARVW>AG</PARVW><PARTN>1010</PARTN></E1EDKA1>
    <E1EDKA1 SEGMENT="1"><PARVW>LF</PARVW><PARTN>17300001</PARTN></E1EDKA1>
    <E1EDP01 SEGMENT="1"><POSEX>00010</POSEX><MENGE>20.000</MENGE><MENEE>PCE</MENEE><VPREI>1.30</VPREI>
      <WERKS>1010</WERKS>
      <E1EDP20 SEGMENT="1"><WMENG>20.000</WMENG><EDATU>20270115</EDATU></E1EDP20>
      <E1EDP19 SEGMENT="1"><QUALF>001</QUALF><IDTNR>TG11</IDTNR></E1EDP19>
    </E1EDP01>
  </IDOC>
</ORDERS05>"""


@pytest.mark.usefixtures("allow_loopback")
class TestIdoc:
    async def test_an_orders05_idoc_becomes_one_order_even_when_sent_twice(
        self, client: AsyncClient, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession],
        erp: FakeErp,
    ) -> None:
        # given: a buyer's SAP connector with the IDoc mapping; vendor and material synced before
        world = await make_world(session)
        admin = await make_member(session, org=world.buyer.org, roles=(Role.ORG_ADMIN, Role.BUYER))
        connector = await created(client, admin, erp, name="sap-prod", profile="sap_s4hana",
                                  mapping_yaml=profile_mapping("sap_s4hana_idoc"))
        await record_links(session, org_id=world.buyer.org.id, source_system="sap-prod",
                           object_type=ObjectType.ORGANIZATION, links=[Link("17300001", world.supplier.org.id)])
        await record_links(session, org_id=world.buyer.org.id, source_system="sap-prod",
                           object_type=ObjectType.MATERIAL, links=[Link("TG11", world.bolt.id)])
        # when SAP sends the IDoc twice
        jobs = []
        for _ in range(2):
            response = await client.post(f"{URL}/{connector['id']}/idoc", content=IDOC.encode(),
                                         headers=admin.headers | {"Content-Type": "application/xml"})
            assert response.status_code == 202, response.text
            jobs.append(response.json())
            await run_bulk(sessionmaker, org_id=world.buyer.org.id, job_id=uuid.UUID(jobs[-1]["id"]))
        # then
        shown = [(await client.get(job["url"], headers=admin.headers)).json()["results"][0] for job in jobs]
        assert [(r["external_id"], r["status"]) for r in shown] == [("4500000017", "created"),
                                                                    ("4500000017", "existing")]
        order = await session.get(PurchaseOrder, uuid.UUID(shown[0]["object_id"]))
        assert order is not None and (order.supplier_org_id, order.reference) == (world.supplier.org.id, "4500000017")

    @pytest.mark.parametrize("body", [
        b"not xml", b"<ORDERS05></ORDERS05>",
        b'<!DOCTYPE x [<!ENTITY a "aaaa">]><ORDERS05><IDOC>&a;</IDOC></ORDERS05>',
    ])
    async def test_hostile_idocs_are_refused(self, client: AsyncClient, session: AsyncSession, erp: FakeErp,
                                             body: bytes) -> None:
        admin = await make_member(session, roles=(Role.ORG_ADMIN, Role.BUYER))
        connector = await created(client, admin, erp, name="sap-prod", profile="sap_s4hana",
                                  mapping_yaml=profile_mapping("sap_s4hana_idoc"))
        response = await client.post(f"{URL}/{connector['id']}/idoc", content=body,
                                     headers=admin.headers | {"Content-Type": "application/xml"})
        assert (response.status_code, response.json()["code"]) == (422, "idoc_unreadable")
