"""EDI gaps closed: DESADV carries the SSCC-18 of every parcel and pallet (the supplier's GS1 prefix, else the
platform's), and credit and debit notes go out as INVOIC 381 / 383 naming the invoice they correct. Every
interchange is parsed back with pydifact."""

import uuid
from decimal import Decimal

import pytest
from httpx import AsyncClient
from pydifact.segmentcollection import Interchange
from pydifact.segments import Segment
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.service.shipments import PackageDraft
from commerce.orders.service.common import load_order, order_lines
from commerce.settlement.notes import Adjusts, NoteLineDraft, issue_note
from commerce.settlement.rules import InvoiceKind
from integrations.edi.models import Gs1CompanyPrefix, ShipmentSscc
from integrations.edi.sscc import allocate_ssccs, set_company_prefix, sscc
from tests.factories import make_member
from tests.integrations.edi_factories import EdiWorld, make_edi_world
from tests.integrations.test_edi_outbound import _logistics, _placed, _send, _step
from tests.logistics_factories import LogisticsWorld, dispatched, one_batch
from tests.materials_factories import act_as, as_owner, owner_actor
from tests.settlement_factories import fapiao, invoice
from tradeloom.identity.roles import Role

PLATFORM_PREFIX = "0200000"


def gs1_check_digit_ok(code: str) -> bool:
    """GS1 mod-10: weights 3,1,3,… from the right of the body."""
    body, check = code[:-1], int(code[-1])
    total = sum(int(digit) * (3 if index % 2 == 0 else 1) for index, digit in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def segments(text: str) -> list[Segment]:
    return list(Interchange.from_str(text).segments)


def values(found: list[Segment], tag: str) -> list[list[object]]:
    return [segment.elements for segment in found if segment.tag == tag]


async def _shipped_on_a_pallet(session: AsyncSession, client: AsyncClient) -> tuple[EdiWorld, LogisticsWorld, str,
                                                                                     uuid.UUID]:
    edi = await make_edi_world(session, client)
    placed = await _placed(client, edi)
    await _step(client, edi, placed["order_id"], "confirm")
    order_line = (await client.get(f"/api/v1/orders/{placed['order_id']}", headers=edi.world.supplier.headers)
                  ).json()["lines"][0]["id"]
    logistics = await _logistics(session, edi)
    shipment = await dispatched(session, logistics, uuid.UUID(placed["order_id"]),
                                one_batch(logistics, uuid.UUID(order_line), "3", package="P1"),
                                packages=(PackageDraft(label="PAL1", kind="pallet"),
                                          PackageDraft(label="P1", parent="PAL1")))
    return edi, logistics, placed["order_id"], shipment.id


class TestSscc:
    def test_sscc_18_has_extension_prefix_serial_and_check_digit(self) -> None:
        # GS1's own example: 0 0614141 123456789 → check digit 0
        assert sscc("0614141", 123456789) == "006141411234567890"
        assert len(sscc("690123456", 7)) == 18 and gs1_check_digit_ok(sscc("690123456", 7))

    async def test_desadv_names_each_package_by_the_suppliers_sscc(
            self, client: AsyncClient, session: AsyncSession) -> None:
        # given a supplier with its GS1 company prefix, a pallet carrying a parcel, dispatched
        edi, _logistics_world, order_id, shipment_id = await _shipped_on_a_pallet(session, client)
        supplier = edi.world.supplier
        await act_as(session, supplier)
        await set_company_prefix(session, actor=owner_actor(supplier), company_prefix="6901234")
        # when the supplier numbers the packages (twice: the job may run again) and the DESADV goes out
        first = await allocate_ssccs(session, shipment_id=shipment_id, platform_prefix=PLATFORM_PREFIX)
        again = await allocate_ssccs(session, shipment_id=shipment_id, platform_prefix=PLATFORM_PREFIX)
        await as_owner(session)
        desadv = await _send(session, edi, "shipment.dispatched", shipment_id=str(shipment_id), order_id=order_id)
        # then
        assert first == again and len(first) == 2
        pallet_sscc, parcel_sscc = sscc("6901234", 1), sscc("6901234", 2)
        assert sorted(first.values()) == sorted([pallet_sscc, parcel_sscc])
        assert all(gs1_check_digit_ok(code) for code in first.values())
        parsed = segments(desadv)
        assert values(parsed, "GIN")[:2] == [["BJ", pallet_sscc], ["ML", "PAL1"]]
        tags = [(s.tag, s.elements[0]) for s in parsed if s.tag in ("CPS", "PAC", "PCI", "GIN")]
        assert tags[:11] == [("CPS", "1"), ("CPS", "2"), ("PAC", "1"), ("PCI", "33E"), ("GIN", "BJ"), ("PCI", "24"),
                             ("GIN", "ML"), ("CPS", "3"), ("PAC", "1"), ("PCI", "33E"), ("GIN", "BJ")]
        assert ["BJ", parcel_sscc] in values(parsed, "GIN")
        counter = await session.scalar(select(Gs1CompanyPrefix.last_serial_reference)
                                       .where(Gs1CompanyPrefix.org_id == supplier.org.id))
        assert counter == 2

    async def test_without_a_prefix_the_platform_prefix_numbers_them(
            self, client: AsyncClient, session: AsyncSession) -> None:
        # given
        edi, _logistics_world, order_id, shipment_id = await _shipped_on_a_pallet(session, client)
        # when
        await act_as(session, edi.world.supplier)
        allocated = await allocate_ssccs(session, shipment_id=shipment_id, platform_prefix=PLATFORM_PREFIX)
        await as_owner(session)
        desadv = await _send(session, edi, "shipment.dispatched", shipment_id=str(shipment_id), order_id=order_id)
        # then
        assert all(code.startswith("0" + PLATFORM_PREFIX) and gs1_check_digit_ok(code) for code in allocated.values())
        sources = await session.scalars(select(ShipmentSscc.source).where(ShipmentSscc.shipment_id == shipment_id))
        assert set(sources.all()) == {"platform"}
        assert {str(v[1]) for v in values(segments(desadv), "GIN") if v[0] == "BJ"} == set(allocated.values())

    async def test_the_buyer_reads_but_cannot_allocate_or_see_other_shipments(
            self, client: AsyncClient, session: AsyncSession) -> None:
        edi, _logistics_world, _order_id, shipment_id = await _shipped_on_a_pallet(session, client)
        await act_as(session, edi.world.other_supplier)
        assert (await session.scalars(select(ShipmentSscc))).all() == []
        with pytest.raises(Exception):  # noqa: B017 — the shipment is not theirs (404 from logistics)
            await allocate_ssccs(session, shipment_id=shipment_id, platform_prefix=PLATFORM_PREFIX)


class TestGs1PrefixApi:
    async def test_register_read_and_refuse_bad_or_taken_prefixes(
            self, client: AsyncClient, session: AsyncSession) -> None:
        # given
        admin = await make_member(session, roles=(Role.ORG_ADMIN,))
        other = await make_member(session, roles=(Role.ORG_ADMIN,))
        url = "/api/v1/edi/gs1-prefix"
        # when / then
        assert (await client.get(url, headers=admin.headers)).json()["code"] == "gs1_prefix_not_found"
        assert (await client.put(url, json={"company_prefix": "69012A4"}, headers=admin.headers)).json()["code"] == \
            "gs1_prefix_invalid"
        saved = await client.put(url, json={"company_prefix": "6901234"}, headers=admin.headers)
        assert saved.status_code == 200 and saved.json() == {"company_prefix": "6901234", "last_serial_reference": 0}
        taken = await client.put(url, json={"company_prefix": "6901234"}, headers=other.headers)
        assert (taken.status_code, taken.json()["code"]) == (409, "gs1_prefix_taken")
        assert (await client.get(url, headers=admin.headers)).json()["company_prefix"] == "6901234"


class TestNotes:
    async def test_credit_and_debit_notes_go_out_as_invoic_381_and_383_naming_the_invoice(
            self, client: AsyncClient, session: AsyncSession) -> None:
        # given an EDI order, confirmed and invoiced (4 boxes × 12.00, fapiao 44001234)
        edi = await make_edi_world(session, client)
        placed = await _placed(client, edi)
        await _step(client, edi, placed["order_id"], "confirm")
        logistics = await _logistics(session, edi)
        order_id = uuid.UUID(placed["order_id"])
        order_line = (await order_lines(session, order_id))[0]
        document = await invoice(session, logistics, await load_order(session, order_id), order_line, quantity="4",
                                 unit_price="12.00", number="44001234")
        supplier = owner_actor(edi.world.supplier)
        # when the supplier credits one box and charges 0.50 more a box on the other three
        credit = await issue_note(session, actor=supplier, invoice_id=document.id, kind=InvoiceKind.CREDIT_NOTE,
                                  fapiao=fapiao("44001300"), lines=[
                                      NoteLineDraft(1, Adjusts.QUANTITY, Decimal(1), Decimal("12.00"))])
        debit = await issue_note(session, actor=supplier, invoice_id=document.id, kind=InvoiceKind.DEBIT_NOTE,
                                 fapiao=fapiao("44001301"), lines=[
                                     NoteLineDraft(1, Adjusts.PRICE, Decimal(3), Decimal("0.50"))])
        await as_owner(session)
        credit_text = await _send(session, edi, "credit_note.issued", invoice_id=str(credit.id))
        debit_text = await _send(session, edi, "debit_note.issued", invoice_id=str(debit.id))
        again = await _send(session, edi, "credit_note.issued", invoice_id=str(credit.id))
        # then
        assert again == credit_text
        for text, code, number, totals in (
                (credit_text, "381", "44001300", [["79", "12"], ["124", "1.56"], ["77", "13.56"]]),
                (debit_text, "383", "44001301", [["79", "1.5"], ["124", "0.2"], ["77", "1.7"]])):
            parsed = segments(text)
            assert [s.tag for s in parsed][:2] == ["UNH", "BGM"]
            assert values(parsed, "BGM") == [[code, number, "9"]]
            assert values(parsed, "RFF") == [[["ON", "ERP+4711"]], [["IV", "44001234"]]]
            assert ["171", "20261120", "102"] in [v[0] for v in values(parsed, "DTM")]
            tags = [s.tag for s in parsed]
            assert tags.index("RFF") < tags.index("NAD")
            assert [v[0] for v in values(parsed, "MOA")][-3:] == totals
