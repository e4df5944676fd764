"""The integration settings in Chromium: an org admin creates and revokes an API key, sets up a connector
against the local ERP, tests it, is told why a broken mapping is refused, and follows a bulk job."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncEngine

from integrations.bulk.records import BulkKind
from integrations.bulk.service import request_bulk, run_bulk
from tests.browser import browser, live_server, page  # noqa: F401 - fixtures
from tests.conftest import truncate_all
from tests.factories import PASSWORD, Member, make_member
from tests.integrations.erp_server import FakeErp
from tradeloom.audit import Actor
from tradeloom.db import make_sessionmaker, tenant_transaction
from tradeloom.identity.roles import Role
from tradeloom.settings import Settings

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture
async def admin(engine: AsyncEngine, test_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Member]:
    """An org admin committed for real; the live server may call the local ERP on 127.0.0.1."""
    monkeypatch.setattr(test_settings, "connector_allowed_hosts", ["127.0.0.1"])
    monkeypatch.setattr(test_settings, "connector_retry_seconds", 0)
    async with make_sessionmaker(engine)() as session, session.begin():
        member = await make_member(session, roles=(Role.ORG_ADMIN, Role.BUYER), email="wang.fang@erp.example")
    yield member
    await truncate_all(engine)


async def sign_in(page: Page, live_server: str, locale: str) -> None:  # noqa: F811
    await page.goto(f"{live_server}/lang/{locale}?next=/integrations")
    await page.locator("input[name=email]").fill("wang.fang@erp.example")
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form button[type=submit]").click()


async def test_api_keys_connectors_and_bulk_jobs(
    page: Page, live_server: str, admin: Member, erp: FakeErp, engine: AsyncEngine,  # noqa: F811
) -> None:
    # given an org admin on the integrations page
    await sign_in(page, live_server, "en")
    await expect(page.locator("h1")).to_have_text("Integrations")
    # when they create an API key, it is shown once; revoking it is recorded
    api_keys = page.locator("#api-keys")
    await api_keys.locator("input[name=name]").fill("SAP S/4HANA")
    await api_keys.get_by_label("changes.read").check()
    await api_keys.get_by_role("button", name="Create API key").click()
    await expect(page.locator("code.new-key")).to_contain_text("tlk_")
    await page.goto(f"{live_server}/integrations")
    await expect(page.locator("code.new-key")).to_have_count(0)
    await page.locator("#api-keys").get_by_role("button", name="Revoke").click()
    await expect(page.locator("#api-keys tbody")).to_contain_text("revoked")
    # when they add an Odoo connector and test it
    connectors = page.locator("#connectors")
    await connectors.locator("input[name=name]").fill("odoo-prod")
    await connectors.locator("select[name=profile]").select_option("odoo")
    await connectors.locator("input[name=base_url]").fill(erp.url)
    await connectors.locator("textarea[name=credentials]").fill("database=prod\nusername=tradeloom\npassword=s3cret")
    await connectors.get_by_role("button", name="Add connector").click()
    await expect(page.locator("h1")).to_contain_text("odoo-prod")
    await page.get_by_role("button", name="Test connection").click()
    await expect(page.locator(".connection-check")).to_have_text("Connection works: signed in as uid 7")
    # then a broken mapping is refused with the reason and the stored one stays
    await page.locator("textarea[name=mapping_yaml]").fill("pulls: [")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("alert")).to_contain_text("not valid YAML at line 1")
    await page.goto(page.url)
    await expect(page.locator("textarea[name=mapping_yaml]")).to_contain_text("product.product")
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "connector-en.png"), full_page=True)
    # when a bulk job has run, its page shows the per-record report
    sessionmaker = make_sessionmaker(engine)
    async with tenant_transaction(sessionmaker, org_id=admin.org.id) as session:
        job = await request_bulk(session, actor=Actor(org_id=admin.org.id, user_id=admin.user.id),
                                 kind=BulkKind.MATERIALS, source_system="odoo-prod",
                                 records=[{"external_id": "M-1", "class_code": "999999", "name_zh": "x",
                                           "name_en": "x", "base_unit": "H87"}])
        job_id: uuid.UUID = job.id
    await run_bulk(sessionmaker, org_id=admin.org.id, job_id=job_id)
    await page.goto(f"{live_server}/integrations/bulk/{job_id}")
    await expect(page.locator(".bulk-status")).to_have_text("succeeded")
    await expect(page.locator("table.results")).to_contain_text("/class_code")
    # and the overview reads in Chinese
    await page.goto(f"{live_server}/lang/zh_CN?next=/integrations")
    await expect(page.locator("h1")).to_have_text("集成")
    await page.screenshot(path=str(SHOTS / "integrations-zh.png"), full_page=True)
