"""Issuing invoices with three-way match, resolving exceptions, credit notes; what the journal shows."""

from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement import invoices, notes, postings
from commerce.settlement.invoice_models import MatchTolerance
from commerce.settlement.rules import InvoiceKind, Resolution, TaxRate
from tests.commerce.settlement.conftest import Deal
from tests.materials_factories import act_as, as_owner, owner_actor
from tests.settlement_factories import fapiao, invoice, receive
from tradeloom.errors import Conflict, Forbidden, Invalid, NotFound

D = Decimal


async def _outstanding(session: AsyncSession, deal: Deal, invoice_id: object) -> Decimal:
    await act_as(session, deal.world.orders.supplier)
    view = await invoices.invoice_view(session, actor=owner_actor(deal.world.orders.supplier), invoice_id=invoice_id)
    return view.outstanding


class TestIssue:
    async def test_received_goods_invoiced_at_the_order_price_match_and_are_approved(
            self, session: AsyncSession, deal: Deal) -> None:
        # given all 10 boxes received
        await receive(session, deal.world, deal.order, deal.line, "10")
        # when
        issued = await invoice(session, deal.world, deal.order, deal.line)
        # then
        assert (issued.status, issued.net_total, issued.tax_total, issued.gross_total) == (
            "approved", D("1000.00"), D("130.00"), D("1130.00"))
        assert issued.seller_uscc == deal.world.orders.supplier.org.uscc
        assert issued.payment_reference.startswith("TL") and len(issued.payment_reference) == 12
        assert await _outstanding(session, deal, issued.id) == D("1130.00")

    async def test_partial_invoicing_and_a_line_not_yet_received_is_an_exception(
            self, session: AsyncSession, deal: Deal) -> None:
        await receive(session, deal.world, deal.order, deal.line, "4")
        first = await invoice(session, deal.world, deal.order, deal.line, quantity="4")
        second = await invoice(session, deal.world, deal.order, deal.line, quantity="3")
        assert first.status == "approved"
        assert second.status == "exception"
        lines = await invoices.invoice_lines(session, second.id)
        assert lines[0].match_reasons == [{"code": "quantity_not_received", "detail": "invoiced 7, received 4"}]

    async def test_price_above_the_order_beyond_the_buyers_tolerance_is_an_exception(
            self, session: AsyncSession, deal: Deal) -> None:
        await as_owner(session)
        session.add(MatchTolerance(org_id=deal.order.buyer_org_id, quantity_pct=D(0), price_pct=D("1")))
        await receive(session, deal.world, deal.order, deal.line, "10")
        within = await invoice(session, deal.world, deal.order, deal.line, quantity="5", unit_price="101.00")
        beyond = await invoice(session, deal.world, deal.order, deal.line, quantity="5", unit_price="101.01")
        assert (within.status, beyond.status) == ("approved", "exception")
        assert (await invoices.invoice_lines(session, beyond.id))[0].match_reasons[0]["code"] == "price_above_order"

    @pytest.mark.parametrize(("quantity", "tax_rate", "detail"), [
        ("10.5", TaxRate.STANDARD, "invoiced quantity 10.5 exceeds the ordered 10"),
        ("10", TaxRate.REDUCED, "tax rate 9 is not the rate of this material (13)"),
    ], ids=["over-ordered", "wrong-tax-rate"])
    async def test_what_can_never_be_invoiced_is_refused_and_nothing_is_stored(
            self, session: AsyncSession, deal: Deal, quantity: str, tax_rate: TaxRate, detail: str) -> None:
        with pytest.raises(Invalid) as refused:
            await invoice(session, deal.world, deal.order, deal.line, quantity=quantity, tax_rate=tax_rate)
        assert refused.value.errors == [{"loc": "lines.0", "detail": detail}]
        assert await invoices.list_invoices(session, actor=owner_actor(deal.world.orders.supplier)) == []

    async def test_a_fapiao_number_is_used_once_per_seller(self, session: AsyncSession, deal: Deal) -> None:
        await invoice(session, deal.world, deal.order, deal.line, quantity="1", number="04400001")
        with pytest.raises(Conflict) as refused:
            await invoice(session, deal.world, deal.order, deal.line, quantity="1", number="04400001")
        assert refused.value.code == "fapiao_number_duplicate"

    async def test_only_the_orders_supplier_invoices_it(self, session: AsyncSession, deal: Deal) -> None:
        other = deal.world.orders.other_supplier
        await act_as(session, other)
        with pytest.raises(NotFound):
            await invoices.issue_invoice(session, actor=owner_actor(other), fapiao=fapiao(), lines=[
                invoices.InvoiceLineDraft(deal.order.id, deal.line.id, D(1), D(100), TaxRate.STANDARD)])
        buyer = deal.world.orders.buyer
        await act_as(session, buyer)
        with pytest.raises(Forbidden):
            await invoices.issue_invoice(session, actor=owner_actor(buyer), fapiao=fapiao(), lines=[
                invoices.InvoiceLineDraft(deal.order.id, deal.line.id, D(1), D(100), TaxRate.STANDARD)])


class TestResolution:
    async def _exception(self, session: AsyncSession, deal: Deal) -> invoices.Invoice:
        await receive(session, deal.world, deal.order, deal.line, "5")
        issued = await invoice(session, deal.world, deal.order, deal.line, quantity="6")
        assert issued.status == "exception"
        await act_as(session, deal.world.orders.buyer)
        return issued

    async def test_accepting_the_variance_approves_the_invoice(self, session: AsyncSession, deal: Deal) -> None:
        issued = await self._exception(session, deal)
        resolved = await invoices.resolve_line(session, actor=owner_actor(deal.world.orders.buyer),
                                               invoice_id=issued.id, line_no=1, resolution=Resolution.ACCEPT,
                                               note="6th box arrives tomorrow", expected_version=issued.version)
        assert resolved.status == "approved"

    async def test_rejecting_voids_the_invoice_in_the_journal(self, session: AsyncSession, deal: Deal) -> None:
        issued = await self._exception(session, deal)
        resolved = await invoices.resolve_line(session, actor=owner_actor(deal.world.orders.buyer),
                                               invoice_id=issued.id, line_no=1, resolution=Resolution.REJECT,
                                               note=None, expected_version=issued.version)
        assert resolved.status == "rejected"
        assert await _outstanding(session, deal, issued.id) == D(0)

    async def test_a_credit_note_answers_the_request_and_reduces_what_is_owed(
            self, session: AsyncSession, deal: Deal) -> None:
        # given the buyer asks for a credit note for the box not received
        issued = await self._exception(session, deal)
        await invoices.resolve_line(session, actor=owner_actor(deal.world.orders.buyer), invoice_id=issued.id,
                                    line_no=1, resolution=Resolution.REQUEST_CREDIT_NOTE, note=None,
                                    expected_version=issued.version)
        # when the supplier credits one box
        await act_as(session, deal.world.orders.supplier)
        note = await notes.issue_note(session, actor=owner_actor(deal.world.orders.supplier), invoice_id=issued.id,
                                      kind=InvoiceKind.CREDIT_NOTE, fapiao=fapiao(), lines=[
                                          notes.NoteLineDraft(1, notes.Adjusts.QUANTITY, D(1), D("100.00"))])
        # then
        assert note.gross_total == D("113.00")
        assert (await invoices.load_invoice(session, issued.id)).status == "approved"
        assert await _outstanding(session, deal, issued.id) == D("565.00")
        assert (await invoices._already_invoiced(session, [deal.line.id]))[deal.line.id] == D(5)

    async def test_the_supplier_cannot_resolve_and_a_stale_version_is_refused(
            self, session: AsyncSession, deal: Deal) -> None:
        issued = await self._exception(session, deal)
        await act_as(session, deal.world.orders.supplier)
        with pytest.raises(Forbidden):
            await invoices.resolve_line(session, actor=owner_actor(deal.world.orders.supplier), invoice_id=issued.id,
                                        line_no=1, resolution=Resolution.ACCEPT, note=None,
                                        expected_version=issued.version)
        await act_as(session, deal.world.orders.buyer)
        with pytest.raises(Exception, match="changed by someone else"):
            await invoices.resolve_line(session, actor=owner_actor(deal.world.orders.buyer), invoice_id=issued.id,
                                        line_no=1, resolution=Resolution.ACCEPT, note=None,
                                        expected_version=issued.version + 1)


async def test_an_outsider_sees_no_invoice(session: AsyncSession, deal: Deal) -> None:
    issued = await invoice(session, deal.world, deal.order, deal.line, quantity="1")
    await act_as(session, deal.world.orders.other_supplier)
    with pytest.raises(NotFound):
        await invoices.load_invoice(session, issued.id)
    assert postings.invoice_prefix(issued.id).startswith("invoice:")
