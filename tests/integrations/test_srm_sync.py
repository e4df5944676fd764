"""Suppliers' qualification documents pulled from a buyer's Odoo (a Studio model, JSON-RPC): created
approved, refreshed when renewed (reminders start again), unknown suppliers queued."""

import datetime as dt
from typing import Any

import redis
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from commerce.qualifications import service
from commerce.qualifications.expiry import check_once, send_reminders
from commerce.qualifications.models import SupplierQualification
from commerce.qualifications.rules import DocType
from integrations.connectors.mapping import alternative_mappings
from integrations.webhooks.signing import signature_is_valid
from tests.factories import make_member, make_org
from tests.integrations.conftest import Receiver
from tests.integrations.erp_server import FakeErp
from tests.integrations.test_connectors import add_connector, open_errors, sync
from tests.integrations.test_webhooks import allow_loopback, job_environment, run_jobs, subscribed  # noqa: F401
from tests.materials_factories import as_owner
from tradeloom import jobs
from tradeloom.audit import Actor
from tradeloom.db import apply_tenant, make_sessionmaker
from tradeloom.identity.roles import OrgKind, Role
from tradeloom.outbox.dispatcher import dispatch_due


def certificate(record_id: int, vat: str, valid_until: str, **extra: Any) -> dict[str, Any]:
    return {"id": record_id, "x_active": True, "x_supplier_vat": vat, "x_type": "iso9001",
            "x_number": f"CN-QMS-{record_id}", "x_issuer": "CQC", "x_valid_from": "2024-01-01",
            "x_valid_until": valid_until, "x_required": True} | extra


async def test_certificates_sync_and_renew(session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession],
                                           erp: FakeErp) -> None:
    # given a buyer's Odoo with a certificate of a platform supplier and one of a company not on the platform
    buyer = await make_member(session, kind=OrgKind.BUYER, roles=(Role.ORG_ADMIN,))
    supplier = await make_org(session, kind=OrgKind.SUPPLIER)
    erp.odoo["x_supplier_certificate"] = [
        certificate(5, supplier.uscc.lower(), "2026-12-20"), certificate(6, "91320500MA1X00000Y", "2027-01-01"),
        certificate(7, supplier.uscc, "2027-01-01", x_active=False, x_required=False)]
    connector = await add_connector(session, buyer, erp, "odoo", mapping=alternative_mappings("odoo")["odoo_srm"])
    # when
    outcome = await sync(sessionmaker, connector)
    # then the supplier's certificate is kept approved, the stranger's waits in the queue
    await apply_tenant(session, org_id=buyer.org.id)
    assert outcome.status == "partial"
    assert await open_errors(session, connector) == [("record", "6", "supplier_unknown", 1)]
    stored = await session.scalar(select(SupplierQualification))
    assert stored is not None
    assert (stored.supplier_org_id, stored.status, stored.is_required, stored.valid_until, stored.external_id) == (
        supplier.id, "approved", True, dt.date(2026, 12, 20), "5")
    # when the 30-day reminder went out and the certificate is renewed in Odoo, the next sync refreshes it
    await as_owner(session)
    assert await send_reminders(session, today=dt.date(2026, 11, 25)) == 1
    erp.odoo["x_supplier_certificate"][0]["x_valid_until"] = "2029-12-20"
    again = await sync(sessionmaker, connector)
    # then the same row now runs to 2029 and its reminders start afresh
    assert again.summary["qualifications"]["existing"] == 1
    rows = list(await session.scalars(select(SupplierQualification).execution_options(populate_existing=True)))
    assert [(r.valid_until, r.reminded_30_at) for r in rows] == [(dt.date(2029, 12, 20), None)]


async def test_an_expiry_reminder_reaches_the_suppliers_webhook(
    committed_client: AsyncClient, engine: AsyncEngine, redis_client: redis.Redis, receiver: Receiver,
    job_environment: None, allow_loopback: None,  # noqa: F811
) -> None:
    # given a supplier subscribed to its qualification events, and an approved document 30 days from its end
    async with make_sessionmaker(engine)() as setup, setup.begin():
        buyer = await make_member(setup, roles=(Role.BUYER,), kind=OrgKind.BUYER)
        supplier = await make_member(setup, roles=(Role.ORG_ADMIN,), kind=OrgKind.SUPPLIER)
        await apply_tenant(setup, org_id=buyer.org.id)
        await service.record_qualification(setup, actor=Actor(org_id=buyer.org.id), supplier_org_id=supplier.org.id,
                                           fields=service.QualificationFields(
                                               DocType.ISO_9001, "CN-QMS-HOOK", "CQC",
                                               dt.date.today() + dt.timedelta(days=30), is_required=True))
    subscription = await subscribed(committed_client, supplier, receiver.url, ["supplier.qualification.*"])
    # when the daily check, the outbox dispatcher and the jobs run (the check twice)
    assert (await check_once(), await check_once()) == (1, 0)
    dispatch_due(jobs.sync_engine(), redis_client)
    run_jobs(redis_client)
    # then the supplier's receiver got one signed supplier.qualification.expiring
    ((headers, body),) = receiver.requests
    assert headers["tradeloom-event"] == "supplier.qualification.expiring"
    assert signature_is_valid(subscription["secret"], body, headers["tradeloom-signature"])
    assert b'"days_before":30' in body and b'"number":"CN-QMS-HOOK"' in body
