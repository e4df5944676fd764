"""PunchOut in a real browser: a procurement system's setup request opens the catalogue, the user shops at
contract prices, and returning the cart makes Chromium post the PunchOutOrderMessage to the procurement
system (a local HTTP receiver), whose OrderRequest then places the order. The settings pages are shown too.
Screenshots go to the test's tmp_path."""

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
from playwright.async_api import Browser, expect
from sqlalchemy.ext.asyncio import AsyncEngine

from integrations.edi.inbound import receive_interchange
from integrations.punchout import service as punchout_service
from tests.browser import browser, live_server  # noqa: F401 - fixtures
from tests.commerce.orders.test_pages_browser import sign_in
from tests.conftest import truncate_all
from tests.integrations.conftest import Receiver
from tests.integrations.edi_factories import add_partner, unknown_material_orders
from tests.integrations.punchout_factories import IDENTITY, envelope, order_request, setup_request, status_of
from tests.materials_factories import act_as, as_owner, make_price_list, owner_actor
from tests.orders_factories import OrderWorld, make_world
from tradeloom.db import make_sessionmaker

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class CommittedPunchOut:
    world: OrderWorld
    secret: str


@pytest.fixture
async def committed_punchout(engine: AsyncEngine) -> AsyncIterator[CommittedPunchOut]:
    """Committed for real: the order world, a contract price list, a credential, an EDI partner with one
    rejected interchange in its log."""
    async with make_sessionmaker(engine)() as session, session.begin():
        world = await make_world(session)
        await make_price_list(session, world.supplier, world.buyer.org.id, world.bolt.id, kind="contract")
        await act_as(session, world.admin)
        _, secret = await punchout_service.create_credential(
            session, actor=owner_actor(world.admin), name="SAP Ariba", domain="NetworkID", identity=IDENTITY,
            supplier_org_id=world.supplier.org.id, delivery_site_id=world.site_id)
        await as_owner(session)
        await add_partner(session, world)
        await act_as(session, world.buyer)
        await receive_interchange(session, actor=owner_actor(world.buyer), text=unknown_material_orders(world))
        await as_owner(session)
    yield CommittedPunchOut(world, secret)
    await truncate_all(engine)


async def test_punch_out_shop_return_and_order(
    browser: Browser, live_server: str, committed_punchout: CommittedPunchOut, receiver: Receiver,  # noqa: F811
    tmp_path: Path,
) -> None:
    world = committed_punchout.world
    # given a setup request from the procurement system, whose BrowserFormPost is our local receiver
    async with httpx.AsyncClient(base_url=live_server) as procurement:
        setup = await procurement.post("/api/v1/punchout/cxml", headers={"Content-Type": "text/xml"},
                                       content=envelope(setup_request(receiver.url),
                                                        secret=committed_punchout.secret))
    start = re.search(r"<URL>([^<]+)</URL>", setup.text)
    assert setup.status_code == 200 and start is not None
    # when the user follows the start page, finds the bolt at its contract price and adds two boxes
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    await page.goto(start.group(1))
    await page.locator("input[name=q]").fill(world.bolt.code)
    await page.locator("input[name=q]").press("Enter")
    row = page.locator("#punchout-catalogue tbody tr").first
    await expect(row).to_contain_text("合同价")
    await expect(row).to_contain_text("10 CNY / BX")  # 0.10 a bolt, 100 bolts a box
    await page.screenshot(path=str(tmp_path / "1-catalogue.png"), full_page=True)
    await row.get_by_role("button").click()
    await expect(page.locator("#cart-total")).to_have_text("20.00 CNY")
    await page.screenshot(path=str(tmp_path / "2-cart.png"), full_page=True)
    # and returns the cart
    async with page.expect_request(lambda request: request.url == receiver.url):
        await page.get_by_role("button", name="将购物车返回我的采购系统").click()
    # then the procurement system received the PunchOutOrderMessage as cxml-urlencoded
    await expect(page.locator("body")).to_contain_text("thanks")
    (headers, body), = receiver.requests
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    message = parse_qs(body.decode())["cxml-urlencoded"][0]
    assert "<BuyerCookie>cookie-7f3a</BuyerCookie>" in message
    item = re.search(r'<ItemIn quantity="([^"]+)">.*?<Money currency="CNY">([^<]+)</Money>.*?'
                     r"<UnitOfMeasure>([^<]+)</UnitOfMeasure>", message)
    assert item is not None and item.groups() == ("2", "10", "BX")
    # when it orders the cart, the order is placed
    async with httpx.AsyncClient(base_url=live_server) as procurement:
        ordered = await procurement.post("/api/v1/punchout/cxml", headers={"Content-Type": "text/xml"},
                                         content=envelope(order_request("PO-ARIBA-7", [(world.bolt.code, "2", "BX",
                                                                                        "10")], "20"),
                                                          secret=committed_punchout.secret))
    assert status_of(ordered.text)[1].startswith("Order PO-")

    # and the buyer's admin sees the credential (used) and the EDI message log
    admin = await sign_in(browser, live_server, world.admin, "/integrations/punchout")
    await expect(admin.locator("#punchout-credentials")).to_contain_text(f"NetworkID:{IDENTITY}")
    await admin.screenshot(path=str(tmp_path / "3-credentials.png"), full_page=True)
    await admin.goto(f"{live_server}/integrations/edi")
    await expect(admin.locator("#edi-log")).to_contain_text("已拒绝")
    await expect(admin.locator("#edi-log")).to_contain_text("9999999999994")
    await admin.screenshot(path=str(tmp_path / "4-edi.png"), full_page=True)
    assert all((tmp_path / name).stat().st_size > 10_000 for name in ("1-catalogue.png", "4-edi.png"))
