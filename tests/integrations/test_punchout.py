"""cXML PunchOut over HTTP: setup with shared-secret credentials, the one-time start link, the cart at contract
prices returned as a PunchOutOrderMessage, and the OrderRequest that becomes the purchase order."""

import html
import re
from decimal import Decimal
from urllib.parse import quote

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.orders.models import PurchaseOrder
from integrations.punchout.models import PunchOutCredential
from tests.integrations.punchout_factories import (
    envelope,
    make_punchout_world,
    order_request,
    post_cxml,
    setup_request,
    start_path,
    status_of,
)

RECEIVER = "https://ariba.example/punchout/return"


async def _orders(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(PurchaseOrder)) or 0)


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


class TestSetup:
    async def test_the_secret_is_stored_hashed_and_shown_once(self, client: AsyncClient,
                                                              session: AsyncSession) -> None:
        punchout = await make_punchout_world(session, client)
        stored = await session.get(PunchOutCredential, punchout.credential["id"])
        assert stored is not None and punchout.secret not in stored.secret_hash
        listed = await client.get("/api/v1/punchout/credentials", headers=punchout.world.admin.headers)
        assert "shared_secret" not in listed.json()[0]

    async def test_setup_answers_a_one_time_start_page(self, client: AsyncClient, session: AsyncSession) -> None:
        # given
        punchout = await make_punchout_world(session, client)
        # when
        answer = await post_cxml(client, envelope(setup_request(RECEIVER), secret=punchout.secret))
        # then
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/xml")
        assert status_of(answer.text) == ("200", "PunchOut session opened.")
        path = start_path(answer.text)
        first = await client.get(path)
        assert (first.status_code, first.headers["location"]) == (303, "/punchout/shop")
        client.cookies.clear()
        second = await client.get(path)
        assert second.status_code == 403  # the link works once

    async def test_a_wrong_secret_or_unknown_identity_is_401(self, client: AsyncClient,
                                                             session: AsyncSession) -> None:
        punchout = await make_punchout_world(session, client)
        wrong = await post_cxml(client, envelope(setup_request(RECEIVER), secret=punchout.secret + "x"))
        stranger = await post_cxml(client, envelope(setup_request(RECEIVER), secret=punchout.secret,
                                                    identity="AN0999"))
        assert [(r.status_code, status_of(r.text)) for r in (wrong, stranger)] == [
            (401, ("401", "The credentials are not valid."))] * 2

    async def test_a_switched_off_credential_is_refused(self, client: AsyncClient, session: AsyncSession) -> None:
        punchout = await make_punchout_world(session, client)
        await client.patch(f"/api/v1/punchout/credentials/{punchout.credential['id']}", json={"is_active": False},
                           headers=punchout.world.admin.headers)
        answer = await post_cxml(client, envelope(setup_request(RECEIVER), secret=punchout.secret))
        assert answer.status_code == 401

    async def test_invalid_cxml_is_a_4xx_cxml_response(self, client: AsyncClient, session: AsyncSession) -> None:
        punchout = await make_punchout_world(session, client)
        bomb = ('<?xml version="1.0"?><!DOCTYPE cXML [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                "<cXML>&b;</cXML>")
        cases = {
            "<cXML><Header>": "The document is not well-formed XML",
            bomb: "The document uses forbidden XML features: EntitiesForbidden.",
            "<order/>": "The root element is 'order', not 'cXML'.",
            envelope("<ProfileRequest/>", secret=punchout.secret): "ProfileRequest is not a request this endpoint",
            envelope(setup_request("javascript:alert(1)"), secret=punchout.secret): "BrowserFormPost URL must be",
            envelope("<PunchOutSetupRequest/>", secret=punchout.secret): "BrowserFormPost URL is missing",
        }
        for document, message in cases.items():
            answer = await post_cxml(client, document)
            assert answer.status_code == 400, document
            assert status_of(answer.text)[1].startswith(message), answer.text
        huge = await post_cxml(client, "<cXML>" + "x" * 1_000_001 + "</cXML>")
        assert huge.status_code in (413,)


class TestShoppingAndOrder:
    async def test_cart_returns_at_contract_prices_and_the_order_request_places_one_order(
            self, client: AsyncClient, session: AsyncSession) -> None:
        # given a shopper who entered through the start page
        punchout = await make_punchout_world(session, client)
        setup = await post_cxml(client, envelope(setup_request(RECEIVER), secret=punchout.secret))
        await client.get(start_path(setup.text))
        shop = await client.get("/punchout/shop", params={"q": punchout.world.bolt.code})
        assert shop.status_code == 200
        assert "0.1 CNY / H87" not in shop.text  # the offer sells boxes: priced per BX…
        assert "合同价" in shop.text or "Contract price" in shop.text
        # when they put 600 bolts in the cart and return it
        added = await client.post("/punchout/cart", data={
            "csrf_token": _csrf(shop.text), "material_code": punchout.world.bolt.code, "quantity": "600",
            "unit": "H87"})
        assert added.status_code == 303
        cart = await client.get("/punchout/cart")
        assert "60.00 CNY" in cart.text, cart.text[cart.text.find("<table"):]  # 600 × 0.10 contract price
        returned = await client.post("/punchout/return", data={"csrf_token": _csrf(cart.text)})
        # then the page posts the PunchOutOrderMessage to the procurement system
        assert returned.status_code == 200
        assert f'action="{RECEIVER}"' in returned.text
        message = html.unescape(re.search(r'name="cxml-urlencoded" value="([^"]*)"', returned.text).group(1))
        assert "<BuyerCookie>cookie-7f3a</BuyerCookie>" in message
        assert f"<SupplierPartID>{punchout.world.bolt.code}</SupplierPartID>" in message
        assert '<Total><Money currency="CNY">60</Money></Total>' in message
        item = re.search(r'<ItemIn quantity="([^"]+)">.*?<Money currency="CNY">([^<]+)</Money>.*?'
                         r"<UnitOfMeasure>([^<]+)</UnitOfMeasure>", message)
        assert item is not None
        quantity, price, unit = item.groups()
        assert (await client.get("/punchout/cart")).status_code == 403  # the session has ended

        # when the procurement system orders the returned cart, twice (a retry after a timeout)
        document = envelope(order_request("PO-ARIBA-0042", [(punchout.world.bolt.code, quantity, unit, price)],
                                          "60.00"), secret=punchout.secret, payload_id="order-0042")
        first = await post_cxml(client, document)
        again = await post_cxml(client, document)
        # then one purchase order is placed, for the credential's supplier and site
        assert first.status_code == 200 and status_of(first.text)[1].startswith("Order PO-")
        assert status_of(again.text) == ("200", "Already received (orderID PO-ARIBA-0042); no new order was placed.")
        order = await session.scalar(select(PurchaseOrder).where(PurchaseOrder.reference == "cXML PO-ARIBA-0042"))
        assert order is not None
        assert (order.supplier_org_id, order.delivery_site_id, order.net_total, order.status) == (
            punchout.world.supplier.org.id, punchout.world.site_id, Decimal("60.00"), "sent")
        assert await _orders(session) == 1

    async def test_the_same_order_id_under_a_new_payload_id_places_nothing(self, client: AsyncClient,
                                                                           session: AsyncSession) -> None:
        punchout = await make_punchout_world(session, client)
        items = [(punchout.world.bolt.code, "600", "H87", "0.10")]
        for payload in ("p-1", "p-2"):
            answer = await post_cxml(client, envelope(order_request("PO-9", items, "60.00"),
                                                      secret=punchout.secret, payload_id=payload))
            assert answer.status_code == 200
        assert await _orders(session) == 1

    async def test_an_order_at_other_prices_or_unknown_material_is_400(self, client: AsyncClient,
                                                                       session: AsyncSession) -> None:
        punchout = await make_punchout_world(session, client)
        cheaper = await post_cxml(client, envelope(order_request(
            "PO-1", [(punchout.world.bolt.code, "600", "H87", "0.05")], "30.00"), secret=punchout.secret))
        unknown = await post_cxml(client, envelope(order_request(
            "PO-2", [("NO-SUCH-CODE", "1", "H87", "1")], "1"), secret=punchout.secret))
        assert cheaper.status_code == 400
        assert status_of(cheaper.text)[1] == ("The order total 30.00 differs from the agreed 60 CNY; punch out "
                                              "again for current prices.")
        assert unknown.status_code == 400 and "NO-SUCH-CODE" in status_of(unknown.text)[1]
        assert await _orders(session) == 0

    async def test_no_cookie_or_a_forged_form_is_refused(self, client: AsyncClient, session: AsyncSession) -> None:
        punchout = await make_punchout_world(session, client)
        assert (await client.get("/punchout/shop")).status_code == 403
        setup = await post_cxml(client, envelope(setup_request(RECEIVER), secret=punchout.secret))
        await client.get(start_path(setup.text))
        forged = await client.post("/punchout/cart", data={"csrf_token": "x", "material_code": "A", "quantity": "1",
                                                           "unit": "H87"})
        assert forged.status_code == 403
        bad_quantity = await client.post("/punchout/cart", data={
            "csrf_token": _csrf((await client.get("/punchout/shop")).text),
            "material_code": punchout.world.bolt.code, "quantity": quote("1e999"), "unit": "H87"})
        assert bad_quantity.status_code == 422
