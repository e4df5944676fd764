"""Outbound EDIFACT: an order placed by EDI answers with ORDRSP, DESADV and INVOIC as it moves on; the
watched folder takes interchanges in and writes ours out."""

import uuid
from pathlib import Path

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from integrations.edi.folder import exchange_folder
from integrations.edi.outbound import send_for_order_event
from integrations.edi.syntax import element, read_interchange
from tests.integrations.edi_factories import EdiWorld, make_edi_world, upload
from tests.materials_factories import act_as, as_owner


async def _placed(client: AsyncClient, edi: EdiWorld) -> dict[str, str]:
    body = (await upload(client, edi, edi.fixture("orders_d96a_two_messages.edi"))).json()
    return body["messages"][0]


async def _step(client: AsyncClient, edi: EdiWorld, order_id: str, step: str, **json: object) -> None:
    order = await client.get(f"/api/v1/orders/{order_id}", headers=edi.world.supplier.headers)
    who = edi.world.buyer if step == "receive" else edi.world.supplier
    response = await client.post(f"/api/v1/orders/{order_id}/{step}", json=json or None,
                                 headers=who.headers | {"If-Match": order.headers["etag"]})
    assert response.status_code == 200, response.text


async def _send(session: AsyncSession, edi: EdiWorld, topic: str, order_id: str) -> str:
    await act_as(session, edi.world.buyer)
    sent = await send_for_order_event(session, topic=topic, order_id=uuid.UUID(order_id))
    await as_owner(session)
    assert sent is not None
    return sent.content


class TestOrderMessages:
    async def test_confirmation_shipment_and_receipt_send_ordrsp_desadv_invoic(
            self, client: AsyncClient, session: AsyncSession) -> None:
        # given an EDI order the supplier confirms with line 2 cut to 1 box… no: packs of 2, so to 0 boxes
        edi = await make_edi_world(session, client)
        placed = await _placed(client, edi)
        order = (await client.get(f"/api/v1/orders/{placed['order_id']}", headers=edi.world.supplier.headers)).json()
        second_line = order["lines"][1]["id"]
        await _step(client, edi, placed["order_id"], "confirm", lines=[
            {"line_id": second_line, "quantity": "0", "date": "2026-12-20"}])
        # when
        ordrsp = await _send(session, edi, "order.confirmed", placed["order_id"])
        await _step(client, edi, placed["order_id"], "ship")
        desadv = await _send(session, edi, "order.shipped", placed["order_id"])
        await _step(client, edi, placed["order_id"], "receive")
        invoic = await _send(session, edi, "order.received", placed["order_id"])
        # then every message is a valid interchange to the partner, numbered in sequence
        interchanges = [read_interchange(text) for text in (ordrsp, desadv, invoic)]
        assert [i.control_reference for i in interchanges] == ["1", "2", "3"]
        assert [i.messages[0].type for i in interchanges] == ["ORDRSP", "DESADV", "INVOIC"]
        assert {(i.recipient.id, i.sender.id) for i in interchanges} == {("4012345000009", "TRADELOOM")}
        assert "BGM+231+" + order["number"] + "+4'" in ordrsp  # accepted with changes
        assert "RFF+ON:ERP?+4711'" in ordrsp  # their order number, escaped again
        assert f"LIN+2+3+{edi.world.bolt.code}:MP'\nPIA+5+4006381333931:EN'\nQTY+21:0:BX'\nDTM+2:20261220:102'" \
            in ordrsp
        assert "QTY+12:4:BX'" in desadv and "QTY+12:0:BX'" in desadv
        # 4 boxes × 12.00 = 48.00 net, 13 % VAT 6.24
        assert "MOA+79:48'\nMOA+124:6.24'\nMOA+77:54.24'" in invoic
        tax = [s for s in interchanges[2].messages[0].body if s.tag == "TAX"]
        assert element(tax[0], 4, 3) == "13"

    async def test_an_event_delivered_twice_sends_one_interchange(self, client: AsyncClient,
                                                                  session: AsyncSession) -> None:
        edi = await make_edi_world(session, client)
        placed = await _placed(client, edi)
        await _step(client, edi, placed["order_id"], "confirm")
        first = await _send(session, edi, "order.confirmed", placed["order_id"])
        again = await _send(session, edi, "order.confirmed", placed["order_id"])
        assert first == again

    async def test_orders_not_placed_by_edi_send_nothing(self, session: AsyncSession, client: AsyncClient) -> None:
        edi = await make_edi_world(session, client)
        await act_as(session, edi.world.buyer)
        assert await send_for_order_event(session, topic="order.confirmed", order_id=uuid.uuid4()) is None


class TestWatchedFolder:
    async def test_files_in_become_orders_and_ours_go_out(
            self, client: AsyncClient, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession],
            tmp_path: Path) -> None:
        # given
        edi = await make_edi_world(session, client)
        inbox = tmp_path / str(edi.world.buyer.org.id) / "in"
        inbox.mkdir(parents=True)
        (inbox / "orders-1001.edi").write_text(edi.fixture("orders_d96a_two_messages.edi"))
        (inbox / "orders-1002.edi.tmp").write_text("half uploaded")
        (inbox / "broken.edi").write_text(edi.fixture("orders_d96a_two_messages.edi").replace("UNZ+2", "UNZ+5"))
        (inbox / "stranger.edi").write_text("UNB+UNOC:3+NOBODY:ZZZ+TRADELOOM:ZZZ+261125:0930+1'UNZ+0+1'")
        # when
        run = await exchange_folder(sessionmaker, tmp_path)
        # then
        org = tmp_path / str(edi.world.buyer.org.id)
        assert (run.taken, run.failed) == (["broken.edi", "orders-1001.edi"], ["stranger.edi"])
        assert (org / "processed" / "orders-1001.edi").exists()
        assert (org / "in" / "orders-1002.edi.tmp").exists()
        assert "No active EDI partner" in (org / "failed" / "stranger.edi.reason.txt").read_text()
        (contrl,) = run.written  # the CONTRL answering broken.edi
        assert "UCI+1001+4012345000009:14+TRADELOOM:ZZZ+4+29'" in (org / "out" / contrl).read_text()
        assert (await exchange_folder(sessionmaker, tmp_path)).written == []  # handed over once
