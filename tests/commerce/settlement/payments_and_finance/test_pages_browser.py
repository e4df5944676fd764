"""In headless Chromium (Chinese pages): the buyer pays an approved invoice by card through the local Stripe
stand-in; the supplier asks to be paid early, a financier bids in the marketplace, the supplier accepts; both
parties read and confirm their statement."""

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from commerce.settlement.finance.models import FinanceOffer
from tests.browser import browser, page, serve  # noqa: F401 - fixtures
from tests.commerce.test_browser import supplier_page
from tests.conftest import truncate_all
from tests.factories import Member, make_member
from tests.materials_factories import as_owner
from tests.settlement_factories import invoice, make_logistics_world, receive, settlement_order
from tradeloom.db import make_sessionmaker
from tradeloom.identity.roles import OrgKind, Role
from tradeloom.settings import Settings

pytestmark = pytest.mark.browser
TODAY = dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True)
class Parties:
    buyer: Member
    supplier: Member
    financier: Member


@pytest.fixture(scope="session")
def stripe_live_server(stripe_settings: Settings) -> Iterator[str]:
    yield from serve(stripe_settings)


@pytest.fixture
async def parties(engine: AsyncEngine) -> AsyncIterator[Parties]:
    """An approved invoice of 1,130.00 CNY, committed for real; finance members of each party."""
    async with make_sessionmaker(engine)() as session, session.begin():
        world = await make_logistics_world(session)
        order, line = await settlement_order(session, world)
        await receive(session, world, order, line, "10")
        await invoice(session, world, order, line, number="FP20261125")
        await as_owner(session)
        made = Parties(await make_member(session, org=world.orders.buyer.org, roles=(Role.FINANCE,)),
                       await make_member(session, org=world.orders.supplier.org, roles=(Role.FINANCE,)),
                       await make_member(session, roles=(Role.FINANCE,), kind=OrgKind.FINANCIER))
    yield made
    await truncate_all(engine)


async def test_buyer_pays_an_invoice_by_card(page: Page, browser: Browser, stripe_live_server: str,  # noqa: F811
                                             parties: Parties, tmp_path: Path) -> None:
    buyer = await supplier_page(browser, stripe_live_server, parties.buyer.user.email)
    await buyer.goto(f"{stripe_live_server}/settlement/card-payments")
    await buyer.get_by_role("button", name="发起银行卡支付").click()
    row = buyer.locator("table.payments tbody tr").first
    await expect(row.locator(".status")).to_have_text("待付款")
    # a declined card first, then the card that succeeds
    await row.get_by_label("银行卡").select_option("pm_card_chargeDeclined")
    await row.get_by_role("button", name="银行卡支付").click()
    await expect(row.locator(".status")).to_contain_text("上次支付被拒")
    await row.get_by_role("button", name="银行卡支付").click()
    await expect(row.locator(".status")).to_have_text("已支付")
    await buyer.screenshot(path=str(tmp_path / "card-payments.png"), full_page=True)
    # the statement shows the invoice and the payment
    await buyer.goto(f"{stripe_live_server}/settlement/statements?counterparty_org_id={parties.supplier.org.id}"
                     f"&side=buyer&currency=CNY&period_start={TODAY.replace(day=1)}&period_end={TODAY}")
    await expect(buyer.locator("td.closing")).to_have_text("0.00")
    await buyer.get_by_role("button", name="确认对账单").click()
    await expect(buyer.locator(".statement-status")).to_have_text("待对方确认")


async def test_financier_buys_a_receivable_in_the_marketplace(page: Page, browser: Browser,  # noqa: F811
                                                              stripe_live_server: str, parties: Parties,
                                                              tmp_path: Path) -> None:
    supplier = await supplier_page(browser, stripe_live_server, parties.supplier.user.email)
    await supplier.goto(f"{stripe_live_server}/settlement/finance")
    await supplier.get_by_role("button", name="申请提前付款").click()
    await expect(supplier.locator("table.own-requests")).to_contain_text("FP20261125")
    financier = await supplier_page(browser, stripe_live_server, parties.financier.user.email)
    await financier.goto(f"{stripe_live_server}/settlement/finance")
    await expect(financier.locator("#maturity-chart")).to_be_visible()
    await financier.get_by_label("年化贴现率（%）").fill("12")
    await financier.get_by_role("button", name="报价", exact=True).click()
    await financier.screenshot(path=str(tmp_path / "marketplace.png"), full_page=True)
    await supplier.reload()
    await supplier.get_by_role("button", name="接受").click()
    await expect(supplier.locator("table.assignments")).to_contain_text("已转让")


async def test_offers_expire_and_are_withdrawn_on_the_pages(page: Page, browser: Browser,  # noqa: F811
                                                            stripe_live_server: str, parties: Parties,
                                                            engine: AsyncEngine) -> None:
    # given the supplier's request in the marketplace
    supplier = await supplier_page(browser, stripe_live_server, parties.supplier.user.email)
    await supplier.goto(f"{stripe_live_server}/settlement/finance")
    await supplier.get_by_role("button", name="申请提前付款").click()
    financier = await supplier_page(browser, stripe_live_server, parties.financier.user.email)
    await financier.goto(f"{stripe_live_server}/settlement/finance")
    # when the financier offers, open until today, then withdraws the offer
    await financier.get_by_label("年化贴现率（%）").fill("12")
    await financier.get_by_label("有效期至（可选）").fill(TODAY.isoformat())
    await financier.get_by_role("button", name="报价", exact=True).click()
    made = financier.locator("table.offers-made tbody tr")
    await expect(made.first.locator(".offer-state")).to_have_text("有效")
    await expect(made.first).to_contain_text(TODAY.isoformat())
    await financier.get_by_role("button", name="撤回").click()
    # then it stands withdrawn and the supplier has nothing to accept
    await expect(made.first.locator(".offer-state")).to_have_text("已撤回")
    await expect(financier.get_by_role("button", name="撤回")).to_have_count(0)
    await supplier.reload()
    await expect(supplier.get_by_role("button", name="接受")).to_have_count(0)
    # when a second offer passes its last day (moved into the past in the database)
    await financier.get_by_label("年化贴现率（%）").fill("10")
    await financier.get_by_role("button", name="报价", exact=True).click()
    open_offers = financier.locator("table.offers-made .offer-state").filter(has_text="有效")
    await expect(open_offers).to_have_count(1)  # the offer's page has loaded: a reload now cannot cut into it
    async with make_sessionmaker(engine)() as session, session.begin():
        await session.execute(update(FinanceOffer).where(FinanceOffer.status == "offered")
                              .values(expires_on=TODAY - dt.timedelta(days=1)))
    # then both parties see it expired and the supplier gets no accept button
    await financier.reload()
    await expect(financier.locator("table.offers-made .offer-state").first).to_have_text("已过期")
    await supplier.reload()
    await expect(supplier.locator(".offer .offer-state").first).to_have_text("已过期")
    await expect(supplier.get_by_role("button", name="接受")).to_have_count(0)
    # and a fresh offer is accepted as before
    await financier.get_by_label("年化贴现率（%）").fill("11")
    await financier.get_by_role("button", name="报价", exact=True).click()
    await expect(open_offers).to_have_count(1)
    await supplier.reload()
    await supplier.get_by_role("button", name="接受").click()
    await expect(supplier.locator("table.assignments .assignment-state")).to_have_text("已转让")
