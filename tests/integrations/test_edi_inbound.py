"""Inbound EDIFACT: ORDERS interchanges become purchase orders; hostile interchanges are refused clearly."""

import asyncio
from decimal import Decimal

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from commerce.orders.models import OrderLine, PurchaseOrder
from integrations.edi.models import EdiInterchange
from tests.factories import make_member
from tests.integrations.edi_factories import (
    add_partner,
    make_edi_world,
    partner_body,
    unknown_material_orders,
    upload,
)
from tests.materials_factories import as_owner
from tests.orders_factories import make_world
from tradeloom.db import make_sessionmaker
from tradeloom.identity.roles import Role


async def _orders(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(PurchaseOrder)) or 0)


class TestOrdersIn:
    async def test_two_messages_become_two_sent_orders(self, client: AsyncClient, session: AsyncSession) -> None:
        # given
        edi = await make_edi_world(session, client)
        # when
        response = await upload(client, edi, edi.fixture("orders_d96a_two_messages.edi"))
        # then
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["interchange"]["status"] == "accepted"
        assert body["interchange"]["control_reference"] == "1001"
        assert [m["accepted"] for m in body["messages"]] == [True, True]
        first = await session.get(PurchaseOrder, body["messages"][0]["order_id"])
        assert first is not None
        assert (first.status, first.reference, first.requested_date.isoformat()) == ("sent", "EDI ERP+4711",
                                                                                      "2026-12-10")
        lines = (await session.scalars(select(OrderLine).where(OrderLine.order_id == first.id)
                                       .order_by(OrderLine.line_no))).all()
        assert [(line.material_code, line.quantity, line.unit, line.unit_price) for line in lines] == [
            (edi.world.bolt.code, Decimal(4), "BX", Decimal("12.00")),
            (edi.world.bolt.code, Decimal(2), "BX", Decimal("12.00")),
        ]
        assert lines[1].requested_date is not None and lines[1].requested_date.isoformat() == "2026-12-15"
        second = await session.get(PurchaseOrder, body["messages"][1]["order_id"])
        assert second is not None and second.delivery_site_id == edi.world.site_id  # the partner's default site
        assert second.net_total == Decimal("105.00")  # 10 boxes at 10.50, PRI written with a decimal comma

    async def test_the_same_interchange_twice_is_refused(self, client: AsyncClient, session: AsyncSession) -> None:
        # given
        edi = await make_edi_world(session, client)
        text = edi.fixture("orders_d96a_two_messages.edi")
        assert (await upload(client, edi, text)).status_code == 201
        # when
        again = await upload(client, edi, text)
        # then
        assert again.status_code == 409
        assert again.json()["code"] == "edi_interchange_duplicate"
        assert await _orders(session) == 2

    async def test_the_same_order_in_a_new_interchange_is_rejected(self, client: AsyncClient,
                                                                   session: AsyncSession) -> None:
        # given
        edi = await make_edi_world(session, client)
        text = edi.fixture("orders_d96a_two_messages.edi")
        await upload(client, edi, text)
        # when
        resent = await upload(client, edi, text.replace("+1001'", "+1003'"))
        # then
        assert resent.status_code == 201
        assert resent.json()["interchange"]["status"] == "rejected"
        assert resent.json()["messages"][0]["code"] == "edi_order_duplicate"
        assert await _orders(session) == 2

    async def test_an_unknown_material_rejects_its_message_with_the_reason(self, client: AsyncClient,
                                                                          session: AsyncSession) -> None:
        # given
        edi = await make_edi_world(session, client)
        # when
        response = await upload(client, edi, edi.fixture("orders_d01b_unknown_material.edi"))
        # then
        assert response.status_code == 201
        (message,) = response.json()["messages"]
        assert message == {"reference": "ORD0001", "document_number": "ERP-4713", "accepted": False,
                           "order_id": None, "order_number": None, "code": "edi_material_unknown",
                           "reason": "Line 2: no material matches 9999999999994 (EN), NO-SUCH-PART (SA)."}
        assert response.json()["interchange"]["status"] == "rejected"
        assert await _orders(session) == 0
        # and the partner is told by EDI too: an ORDRSP "not accepted" with the reason
        answer = await session.scalar(select(EdiInterchange).where(EdiInterchange.direction == "out"))
        assert answer is not None and answer.message_types == ["ORDRSP"]
        assert "BGM+231+ERP-4713+27'" in answer.content
        assert "FTX+AAO+++Line 2?: no material matches 9999999999994 (EN), NO-SUCH-PART (SA).'" in answer.content

    async def test_a_price_that_differs_from_the_agreed_price_is_rejected(self, client: AsyncClient,
                                                                         session: AsyncSession) -> None:
        edi = await make_edi_world(session, client)
        text = edi.fixture("orders_d96a_two_messages.edi").replace("PRI+AAA:12'", "PRI+AAA:11.5'")
        response = await upload(client, edi, text)
        assert [m["accepted"] for m in response.json()["messages"]] == [False, True]
        assert response.json()["interchange"]["status"] == "partial"
        assert response.json()["messages"][0]["reason"] == "Line 1: price 11.5 differs from the agreed 12 CNY."
        assert await _orders(session) == 1

    async def test_an_unknown_qualifier_rejects_the_message(self, client: AsyncClient, session: AsyncSession) -> None:
        edi = await make_edi_world(session, client)
        text = edi.fixture("orders_d96a_two_messages.edi").replace("QTY+21:10:BX'", "QTY+99:10:BX'")
        response = await upload(client, edi, text)
        assert response.json()["messages"][1]["code"] == "edi_qualifier_unknown"
        assert "QTY qualifier '99'" in response.json()["messages"][1]["reason"]


class TestSyntaxErrors:
    async def _contrl(self, session: AsyncSession, response_body: dict[str, object]) -> str:
        errors = response_body["errors"]
        assert isinstance(errors, list)
        contrl = await session.get(EdiInterchange, errors[0]["contrl_interchange_id"])
        assert contrl is not None and contrl.direction == "out" and contrl.message_types == ["CONTRL"]
        return contrl.content

    async def test_a_wrong_unt_count_answers_contrl_naming_the_message(self, client: AsyncClient,
                                                                       session: AsyncSession) -> None:
        # given
        edi = await make_edi_world(session, client)
        text = edi.fixture("orders_d96a_two_messages.edi").replace("UNT+8+2'", "UNT+9+2'")
        # when
        response = await upload(client, edi, text)
        # then
        assert response.status_code == 422
        assert response.json()["code"] == "edi_syntax_error"
        assert response.json()["detail"] == ("UNT of message 2 counts 9 segments; the message has 8 "
                                             "(UNH and UNT included).")
        contrl = await self._contrl(session, response.json())
        assert "UCI+1001+4012345000009:14+TRADELOOM:ZZZ+4'" in contrl
        assert "UCM+2+ORDERS:D:96A:UN+4+29'" in contrl
        assert "UNB+UNOC:3+TRADELOOM:ZZZ+4012345000009:14+" in contrl
        assert await _orders(session) == 0

    async def test_a_wrong_unz_count_is_an_interchange_error(self, client: AsyncClient,
                                                             session: AsyncSession) -> None:
        edi = await make_edi_world(session, client)
        response = await upload(client, edi, edi.fixture("orders_d96a_two_messages.edi").replace("UNZ+2", "UNZ+3"))
        assert response.status_code == 422
        assert "UCI+1001+4012345000009:14+TRADELOOM:ZZZ+4+29'" in await self._contrl(session, response.json())

    async def test_a_stray_release_character_is_refused(self, client: AsyncClient, session: AsyncSession) -> None:
        edi = await make_edi_world(session, client)
        text = edi.fixture("orders_d96a_two_messages.edi").replace("ERP?+4711", "ERP?4711")
        response = await upload(client, edi, text)
        assert response.status_code == 422
        assert "may only precede a service character" in response.json()["detail"]
        assert "+4+21'" in await self._contrl(session, response.json())

    async def test_a_control_character_is_refused_with_contrl(self, client: AsyncClient,
                                                               session: AsyncSession) -> None:
        edi = await make_edi_world(session, client)
        text = edi.fixture("orders_d96a_two_messages.edi").replace("ERP?+4711", "ERP\x004711")
        response = await upload(client, edi, text)
        assert (response.status_code, response.json()["code"]) == (422, "edi_syntax_error")
        assert response.json()["detail"].startswith("Control character U+0000 at offset ")
        assert "+4+21'" in await self._contrl(session, response.json())
        assert await _orders(session) == 0

    async def test_a_control_character_in_the_header_leaves_nothing_to_answer(self, client: AsyncClient,
                                                                              session: AsyncSession) -> None:
        edi = await make_edi_world(session, client)
        text = edi.fixture("orders_d96a_two_messages.edi")
        reference = text.split("UNZ+2+", 1)[1].split("'", 1)[0]
        response = await upload(client, edi, text.replace(f"+{reference}", f"+{reference}\x00"))
        assert (response.status_code, response.json()["code"]) == (422, "edi_partner_unknown")
        assert await session.scalar(select(func.count()).select_from(EdiInterchange)) == 0

    async def test_a_syntax_error_can_be_resent_corrected_under_the_same_reference(
            self, client: AsyncClient, session: AsyncSession) -> None:
        edi = await make_edi_world(session, client)
        text = edi.fixture("orders_d96a_two_messages.edi")
        assert (await upload(client, edi, text.replace("UNZ+2", "UNZ+1"))).status_code == 422
        assert (await upload(client, edi, text)).status_code == 201

    async def test_an_unknown_sender_or_garbage_is_422_and_stores_nothing(self, client: AsyncClient,
                                                                          session: AsyncSession) -> None:
        edi = await make_edi_world(session, client)
        stranger = await upload(client, edi, edi.fixture("orders_d96a_two_messages.edi").replace(
            "4012345000009:14", "4099999000001:14"))
        garbage = await upload(client, edi, "\x00\x01 not an interchange")
        assert (stranger.status_code, stranger.json()["code"]) == (422, "edi_partner_unknown")
        assert (garbage.status_code, garbage.json()["code"]) == (422, "edi_partner_unknown")
        assert await session.scalar(select(func.count()).select_from(EdiInterchange)) == 0

    async def test_another_organization_cannot_use_the_partner(self, client: AsyncClient,
                                                               session: AsyncSession) -> None:
        edi = await make_edi_world(session, client)
        response = await client.post("/api/v1/edi/interchanges",
                                     content=edi.fixture("orders_d96a_two_messages.edi").encode(),
                                     headers=edi.world.supplier.headers)
        assert response.status_code == 403  # suppliers do not place orders
        log = await client.get("/api/v1/edi/interchanges", headers=edi.world.other_supplier.headers)
        assert log.status_code == 403


class TestPartners:
    async def test_a_partner_identity_is_unique_per_organization(self, client: AsyncClient,
                                                                 session: AsyncSession) -> None:
        edi = await make_edi_world(session, client)
        again = await client.post("/api/v1/edi/partners", json=partner_body(edi.world), headers=edi.world.admin.headers)
        assert (again.status_code, again.json()["code"]) == (409, "edi_partner_exists")

    async def test_an_unsupported_directory_is_422(self, client: AsyncClient, session: AsyncSession) -> None:
        edi = await make_edi_world(session, client)
        response = await client.post("/api/v1/edi/partners", json=partner_body(edi.world, syntax_version="D93A"),
                                     headers=edi.world.admin.headers)
        assert response.status_code == 422


    async def test_another_organization_sees_neither_partners_nor_log(self, client: AsyncClient,
                                                                      session: AsyncSession) -> None:
        # given
        edi = await make_edi_world(session, client)
        await upload(client, edi, edi.fixture("orders_d96a_two_messages.edi"))
        await as_owner(session)  # the requests left the shared connection in the app role
        stranger = await make_member(session, roles=(Role.ORG_ADMIN,))
        # when / then: row-level security hides them
        assert (await client.get("/api/v1/edi/partners", headers=stranger.headers)).json() == []
        one = await client.get(f"/api/v1/edi/partners/{edi.partner['id']}", headers=stranger.headers)
        assert one.status_code == 404
        stranger_buyer = await make_member(session, org=stranger.org, roles=(Role.BUYER,))
        assert (await client.get("/api/v1/edi/interchanges", headers=stranger_buyer.headers)).json() == []

class TestConcurrentUploads:
    async def test_the_same_interchange_uploaded_twice_at_once_is_taken_once(
            self, committed_client: AsyncClient, engine: AsyncEngine) -> None:
        # given a committed EDI world
        async with make_sessionmaker(engine)() as session, session.begin():
            world = await make_world(session)
            await add_partner(session, world)
        text = unknown_material_orders(world).replace(
            "LIN+2++9999999999994:EN'\nPIA+1+NO-SUCH-PART:SA'\nQTY+21:1:BX'\n", "").replace("UNT+12", "UNT+9")
        # when two uploads race
        responses = await asyncio.gather(*(committed_client.post(
            "/api/v1/edi/interchanges", content=text.encode(), headers=world.buyer.headers) for _ in range(2)))
        # then one is taken, the other refused, and one order exists
        assert sorted(r.status_code for r in responses) == [201, 409]
        async with make_sessionmaker(engine)() as session:
            assert await _orders(session) == 1

