"""Outbound EDIFACT: an order placed by EDI answers with ORDRSP, a DESADV per shipment and an INVOIC per invoice; the
watched folder takes interchanges in and writes ours out."""

import uuid
from pathlib import Path

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from commerce.logistics.service.shipments import PackageDraft
from commerce.orders.service.common import load_order, order_lines
from integrations.edi.folder import exchange_folder
from integrations.edi.outbound import send_for_event
from integrations.edi.syntax import element, read_interchange
from tests.integrations.edi_factories import EdiWorld, make_edi_world, upload
from tests.logistics_factories import LogisticsWorld, dispatched, make_store, one_batch, stock_up
from tests.materials_factories import act_as, as_owner
from tests.orders_factories import make_site
from tests.settlement_factories import invoice


async def _placed(client: AsyncClient, edi: EdiWorld) -> dict[str, str]:
    body = (await upload(client, edi, edi.fixture("orders_d96a_two_messages.edi"))).json()
    return body["messages"][0]


async def _step(client: AsyncClient, edi: EdiWorld, order_id: str, step: str, **json: object) -> None:
    order = await client.get(f"/api/v1/orders/{order_id}", headers=edi.world.supplier.headers)
    who = edi.world.buyer if step == "receive" else edi.world.supplier
    response = await client.post(f"/api/v1/orders/{order_id}/{step}", json=json or None,
                                 headers=who.headers | {"If-Match": order.headers["etag"]})
    assert response.status_code == 200, response.text


async def _send(session: AsyncSession, edi: EdiWorld, topic: str, **payload: object) -> str:
    await act_as(session, edi.world.buyer)
    sent = await send_for_event(session, topic=topic, payload=payload)
    await as_owner(session)
    assert sent is not None
    return sent.content


async def _logistics(session: AsyncSession, edi: EdiWorld) -> LogisticsWorld:
    """Warehouses for the EDI world's parties and the GTIN-coded bolt on the supplier's shelf: two batches of
    500 pieces (5 boxes each)."""
    world = edi.world
    supplier_site = await make_site(session, world.supplier, code="NB-1")
    logistics = LogisticsWorld(
        orders=world, supplier_store=await make_store(session, org_id=world.supplier.org.id, site_id=supplier_site),
        buyer_store=await make_store(session, org_id=world.buyer.org.id, site_id=world.site_id))
    await stock_up(session, logistics, "500", batch="B-0001")
    await stock_up(session, logistics, "500", batch="B-0002")
    return logistics


class TestOrderMessages:
    async def test_confirmation_shipments_and_invoice_send_ordrsp_desadvs_invoic(
            self, client: AsyncClient, session: AsyncSession) -> None:
        # given an EDI order the supplier confirms with line 2 cut to 0 boxes (4 boxes of line 1 remain)
        edi = await make_edi_world(session, client)
        placed = await _placed(client, edi)
        order = (await client.get(f"/api/v1/orders/{placed['order_id']}", headers=edi.world.supplier.headers)).json()
        first_line, second_line = uuid.UUID(order["lines"][0]["id"]), order["lines"][1]["id"]
        await _step(client, edi, placed["order_id"], "confirm", lines=[
            {"line_id": second_line, "quantity": "0", "date": "2026-12-20"}])
        logistics = await _logistics(session, edi)
        order_id = uuid.UUID(placed["order_id"])
        # when it is confirmed, shipped in two parts (3 boxes in a parcel on a pallet, then 1 loose) and invoiced
        ordrsp = await _send(session, edi, "order.confirmed", order_id=placed["order_id"])
        first = await dispatched(session, logistics, order_id, one_batch(logistics, first_line, "3", package="P1"),
                                 packages=(PackageDraft(label="PAL1", kind="pallet"),
                                           PackageDraft(label="P1", parent="PAL1")))
        second = await dispatched(session, logistics, order_id, one_batch(logistics, first_line, "1", "B-0002"))
        desadvs = [await _send(session, edi, "shipment.dispatched", shipment_id=str(shipment.id),
                               order_id=placed["order_id"]) for shipment in (first, second)]
        order_line = (await order_lines(session, order_id))[0]
        document = await invoice(session, logistics, await load_order(session, order_id), order_line, quantity="4",
                                 unit_price="12.00", number="44001234")
        await as_owner(session)
        invoic = await _send(session, edi, "invoice.issued", invoice_id=str(document.id))
        # then every message is a valid interchange to the partner, numbered in sequence
        interchanges = [read_interchange(text) for text in (ordrsp, *desadvs, invoic)]
        assert [i.control_reference for i in interchanges] == ["1", "2", "3", "4"]
        assert [i.messages[0].type for i in interchanges] == ["ORDRSP", "DESADV", "DESADV", "INVOIC"]
        assert {(i.recipient.id, i.sender.id) for i in interchanges} == {("4012345000009", "TRADELOOM")}
        assert "BGM+231+" + order["number"] + "+4'" in ordrsp  # accepted with changes
        assert "RFF+ON:ERP?+4711'" in ordrsp  # their order number, escaped again
        assert f"LIN+2+3+{edi.world.bolt.code}:MP'\nPIA+5+4006381333931:EN'\nQTY+21:0:BX'\nDTM+2:20261220:102'" \
            in ordrsp
        # each shipment its own DESADV: the parcel on the pallet, its batch; the second part loose
        assert f"BGM+351+{first.number}+9'" in desadvs[0] and "RFF+ON:ERP?+4711'" in desadvs[0]
        assert ("CPS+1'\nCPS+2+1'\nPAC+1++PX'\nPCI+24'\nGIN+ML+PAL1'\nCPS+3+2'\nPAC+1++CT'\nPCI+24'\n"
                f"GIN+ML+P1'\nLIN+1++{edi.world.bolt.code}:MP'\nPIA+5+4006381333931:EN'\nQTY+12:3:BX'\n"
                "PCI+10'\nQTY+12:3:BX'\nGIN+BX+B-0001'") in desadvs[0]
        assert f"BGM+351+{second.number}+9'" in desadvs[1]
        assert f"CPS+1'\nLIN+1++{edi.world.bolt.code}:MP'" in desadvs[1] and "GIN+BX+B-0002'" in desadvs[1]
        assert "QTY+12:1:BX'" in desadvs[1] and "CPS+2" not in desadvs[1]
        # the invoice's fapiao number and amounts: 4 boxes × 12.00 = 48.00 net, 13 % VAT 6.24
        assert "BGM+380+44001234+9'" in invoic and "DTM+3:20261120:102'" in invoic
        assert "MOA+79:48'\nMOA+124:6.24'\nMOA+77:54.24'" in invoic
        tax = [s for s in interchanges[3].messages[0].body if s.tag == "TAX"]
        assert element(tax[0], 4, 3) == "13"

    async def test_an_event_delivered_twice_sends_one_interchange(self, client: AsyncClient,
                                                                  session: AsyncSession) -> None:
        edi = await make_edi_world(session, client)
        placed = await _placed(client, edi)
        await _step(client, edi, placed["order_id"], "confirm")
        first = await _send(session, edi, "order.confirmed", order_id=placed["order_id"])
        again = await _send(session, edi, "order.confirmed", order_id=placed["order_id"])
        assert first == again

    async def test_orders_not_placed_by_edi_send_nothing(self, session: AsyncSession, client: AsyncClient) -> None:
        edi = await make_edi_world(session, client)
        await act_as(session, edi.world.buyer)
        assert await send_for_event(session, topic="order.confirmed", payload={"order_id": str(uuid.uuid4())}) is None
        assert await send_for_event(session, topic="shipment.dispatched", payload={
            "order_id": str(uuid.uuid4()), "shipment_id": str(uuid.uuid4())}) is None


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
