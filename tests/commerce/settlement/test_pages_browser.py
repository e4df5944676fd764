"""Settlement in a real browser, in Chinese: the supplier invoices more than was received, the buyer's finance
sees the match exception, accepts the variance and gets the bank transfer instructions. Screenshots go to the
test's tmp_path."""

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.browser import browser, live_server  # noqa: F401 - fixtures
from tests.commerce.orders.test_pages_browser import sign_in
from tests.conftest import truncate_all
from tests.factories import Member, make_member
from tests.materials_factories import as_owner
from tests.settlement_factories import LogisticsWorld, make_logistics_world, receive, settlement_order
from tradeloom.db import make_sessionmaker
from tradeloom.identity.roles import Role

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Committed:
    world: LogisticsWorld
    finance: Member
    treasurer: Member  # the supplier's finance member (bank statements)


@pytest.fixture
async def committed(engine: AsyncEngine) -> AsyncIterator[Committed]:
    """A confirmed order of 10 boxes, 6 received, committed for the live server; the buyer's and the supplier's
    finance members."""
    async with make_sessionmaker(engine)() as session, session.begin():
        world = await make_logistics_world(session)
        order, line = await settlement_order(session, world)
        await receive(session, world, order, line, "6")
        await as_owner(session)
        finance = await make_member(session, org=world.orders.buyer.org, roles=(Role.FINANCE,))
        treasurer = await make_member(session, org=world.orders.supplier.org, roles=(Role.FINANCE,))
    yield Committed(world, finance, treasurer)
    await truncate_all(engine)


async def test_invoice_exception_resolution_and_payment_instructions(
    browser: Browser, live_server: str, committed: Committed, tmp_path: Path  # noqa: F811
) -> None:
    # given the supplier invoicing the order: 6 received are proposed, it invoices 8
    supplier = await sign_in(browser, live_server, committed.world.orders.supplier, "/settlement/invoices")
    await supplier.locator("#invoiceable a").first.click()
    await expect(supplier.get_by_label("本次开票 1")).to_have_value("6")
    await supplier.get_by_label("本次开票 1").fill("8")
    await supplier.get_by_label("发票号码").fill("44031234")
    await supplier.screenshot(path=str(tmp_path / "1-new-invoice.png"), full_page=True)
    await supplier.get_by_role("button", name="开具发票").click()
    # then it is issued with a match exception
    await expect(supplier.locator("#invoice-status")).to_have_text("匹配异常")
    await expect(supplier.locator("#lines")).to_contain_text("开票数量超过收货数量: invoiced 8, received 6")
    # when the buyer's finance accepts the variance
    finance = await sign_in(browser, live_server, committed.finance, "/settlement/invoices")
    await finance.locator("#inbox a", has_text="44031234").click()
    await finance.get_by_label("处理方式").select_option("accept")
    await finance.get_by_label("备注").fill("余货下周到")
    await finance.get_by_role("button", name="处理").click()
    # then it is approved for payment, with the reference to quote
    await expect(finance.locator("#invoice-status")).to_have_text("已核准付款")
    await expect(finance.locator("#outstanding")).to_have_text("904 CNY")
    await expect(finance.locator("#payment-reference")).to_have_text(re.compile(r"^TL[A-Z2-9]{10}$"))
    await expect(finance.locator("#schedule")).to_contain_text("开票后（账期）")
    await finance.screenshot(path=str(tmp_path / "2-approved.png"), full_page=True)


async def test_bank_statement_upload_shows_the_unmatched_queue(
    browser: Browser, live_server: str, committed: Committed, tmp_path: Path  # noqa: F811
) -> None:
    # given the supplier on the bank-statement page
    page = await sign_in(browser, live_server, committed.treasurer, "/settlement/bank-statements")
    await expect(page.locator("#unmatched")).to_contain_text("已导入的流水均已匹配。")
    # when it uploads a statement whose credit names no invoice
    csv = b"bank_ref,booking_date,amount,currency,remittance,payer_name\nCMB-77,2026-11-24,88.00,CNY,goods,Buyer\n"
    await page.locator("#upload-statement input[type=file]").set_input_files(
        files=[{"name": "statement.csv", "mimeType": "text/csv", "buffer": csv}])
    await page.get_by_role("button", name="导入").click()
    # then the line waits in the unmatched queue
    await expect(page.locator("#unmatched")).to_contain_text("CMB-77")
    await expect(page.locator("#unmatched")).to_contain_text("88 CNY")
    await page.screenshot(path=str(tmp_path / "3-bank-statements.png"), full_page=True)
