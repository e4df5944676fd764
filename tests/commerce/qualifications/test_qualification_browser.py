"""Qualification pages in headless Chromium: a supplier submits its ISO 9001 with the scan (Chinese page),
the buyer sees the expiry reminders and the supplier lacking a required licence, and approves (English)."""

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncEngine

from commerce.qualifications import service
from commerce.qualifications.expiry import send_reminders
from commerce.qualifications.rules import DocType
from tests.browser import browser, live_server, page  # noqa: F401 - fixtures
from tests.conftest import truncate_all
from tests.factories import PASSWORD, Member, make_member
from tradeloom.audit import Actor
from tradeloom.db import apply_tenant, make_sessionmaker
from tradeloom.identity.roles import OrgKind, Role

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"


@dataclass(frozen=True)
class Parties:
    buyer: Member
    supplier: Member


@pytest.fixture
async def parties(engine: AsyncEngine) -> AsyncIterator[Parties]:
    """Committed for real: a buyer holding an expired required licence and an ISO 14001 running out in 5 days."""
    today = dt.date.today()
    async with make_sessionmaker(engine)() as session, session.begin():
        buyer = await make_member(session, roles=(Role.BUYER,), kind=OrgKind.BUYER, email="chen.jing@buyer.example")
        supplier = await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER,
                                     email="liu.yang@supplier.example")
        await apply_tenant(session, org_id=buyer.org.id)
        for fields in (service.QualificationFields(DocType.BUSINESS_LICENCE, "LIC-2020", "SAMR",
                                                   today - dt.timedelta(days=2), is_required=True),
                       service.QualificationFields(DocType.ISO_14001, "EMS-77", "CQC", today + dt.timedelta(days=5))):
            await service.record_qualification(session, actor=Actor(org_id=buyer.org.id),
                                               supplier_org_id=supplier.org.id, fields=fields)
    async with make_sessionmaker(engine)() as session, session.begin():
        await send_reminders(session, today=today)
    yield Parties(buyer, supplier)
    await truncate_all(engine)


async def sign_in(page: Page, live_server: str, locale: str, email: str) -> None:  # noqa: F811
    await page.goto(f"{live_server}/lang/{locale}?next=/qualifications")
    await page.locator("input[name=email]").fill(email)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form button[type=submit]").click()


async def test_submit_remind_and_approve(page: Page, browser: Browser, live_server: str,  # noqa: F811
                                         parties: Parties, tmp_path: Path) -> None:
    # given the supplier on its qualifications page, in Chinese
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    supplier_page = await context.new_page()
    await sign_in(supplier_page, live_server, "zh_CN", parties.supplier.user.email)
    await expect(supplier_page.locator("h1")).to_have_text("供应商资质")
    # when it submits its ISO 9001 certificate with the scan
    scan = tmp_path / "iso9001.pdf"
    scan.write_bytes(b"%PDF-1.7 ISO 9001 certificate")
    form = supplier_page.locator("#submit-form")
    await form.get_by_label("证书类型").select_option("iso9001")
    await form.get_by_label("编号").fill("CN-QMS-2031")
    await form.get_by_label("发证机构").fill("中国质量认证中心")
    await form.get_by_label("到期日").fill("2031-06-30")
    await form.get_by_label("文件（PDF 或图片）").set_input_files(str(scan))
    await form.get_by_role("button", name="提交审批").click()
    # then it waits for the buyer
    row = supplier_page.locator("#own tr[data-number='CN-QMS-2031']")
    await expect(row.locator(".review-status")).to_have_text("待审核")
    await expect(row).to_contain_text("iso9001.pdf")
    # when the buyer opens the page (English): reminders and the lacking licence are shown
    await sign_in(page, live_server, "en", parties.buyer.user.email)
    await expect(page.locator("#lacking")).to_contain_text("Business licence")
    await expect(page.locator("#kept tr[data-number='EMS-77']")).to_contain_text("7-day reminder")
    await expect(page.locator("#kept tr[data-number='LIC-2020'] .standing")).to_have_text("expired")
    await expect(page.locator("#kept tr[data-number='LIC-2020']")).to_contain_text("expired notice")
    # and approves the ISO 9001, marking it required
    pending = page.locator("#kept tr[data-number='CN-QMS-2031']")
    await pending.get_by_label("required").check()
    await pending.get_by_role("button", name="Approve").click()
    await expect(page.locator("#kept tr[data-number='CN-QMS-2031'] .review-status")).to_have_text("approved")
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "qualifications-buyer-en.png"), full_page=True)
    # then the supplier sees it approved
    await supplier_page.reload()
    await expect(supplier_page.locator("#own tr[data-number='CN-QMS-2031'] .review-status")).to_have_text("已批准")
    await context.close()
