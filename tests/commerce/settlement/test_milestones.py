"""Payment terms enforced: milestone payment requests (opened once per order and milestone, paid by bank transfer
quoting their reference, set off against the order's invoices) and the prepayment gate on production and
shipping. Order of 1,130.00 CNY gross (10 boxes at 100.00, 13 % VAT)."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from commerce import payment_port
from commerce.orders.models import PurchaseOrder
from commerce.orders.rules import SimpleStep
from commerce.orders.service.transitions import advance_order
from commerce.settlement import jobs, milestones, overdue, payments, postings
from commerce.settlement.milestone_models import PaymentRequest
from commerce.settlement.models import JournalPosting
from commerce.settlement.providers import PLATFORM_COLLECTION_ACCOUNT
from commerce.settlement.rules import Milestone
from tests.commerce.settlement.conftest import Deal
from tests.factories import make_member
from tests.materials_factories import act_as, as_owner, owner_actor
from tests.settlement_factories import invoice, receive
from tests.tradeloom.test_pages import sign_in
from tradeloom.errors import Conflict
from tradeloom.identity.roles import Role
from tradeloom.outbox.models import OutboxEvent

D = Decimal
TODAY = dt.date(2026, 11, 25)


@pytest.fixture(autouse=True)
def gate() -> None:
    payment_port.install_gate(milestones.PrepaymentGate())  # as the composition root does


async def _terms(session: AsyncSession, deal: Deal, terms: str) -> None:
    await as_owner(session)
    await session.execute(update(PurchaseOrder).where(PurchaseOrder.id == deal.order.id).values(payment_terms=terms))


async def _open(session: AsyncSession, deal: Deal, milestone: Milestone) -> PaymentRequest | None:
    await act_as(session, deal.world.orders.supplier)
    return await milestones.open_request(session, actor=owner_actor(deal.world.orders.supplier),
                                         order_id=deal.order.id, milestone=milestone, today=TODAY)


async def _transfer(session: AsyncSession, deal: Deal, reference: str, amount: str) -> payments.ImportResult:
    """The supplier imports a statement line of ``amount`` quoting ``reference``."""
    await act_as(session, deal.world.orders.supplier)
    csv = ("bank_ref,booking_date,amount,currency,remittance,payer_name\n"
           f"B-{uuid.uuid4().hex[:10]},{TODAY},{amount},CNY,{reference},Buyer").encode()
    return await payments.import_statement(session, actor=owner_actor(deal.world.orders.supplier), filename="s.csv",
                                           content=csv)


async def _step(session: AsyncSession, deal: Deal, action: SimpleStep) -> PurchaseOrder:
    await act_as(session, deal.world.orders.supplier)
    order = await session.get_one(PurchaseOrder, deal.order.id, populate_existing=True)
    return await advance_order(session, actor=owner_actor(deal.world.orders.supplier), order_id=order.id,
                               expected_version=order.version, action=action)


async def _unbalanced(session: AsyncSession) -> list[object]:
    await as_owner(session)
    net = func.sum(JournalPosting.debit - JournalPosting.credit)
    return list((await session.execute(select(JournalPosting.entry_id, JournalPosting.org_id)
                                       .group_by(JournalPosting.entry_id, JournalPosting.org_id)
                                       .having(net != 0))).all())


class TestPrepaymentGate:
    async def test_shipping_waits_for_the_prepayment_and_names_what_is_missing(
            self, session: AsyncSession, deal: Deal) -> None:
        # given terms with 30 % prepayment, and the prepayment request opened on confirmation
        await _terms(session, deal, "30% prepayment, net 30")
        request = await _open(session, deal, Milestone.CONFIRMATION)
        assert request is not None and request.amount == D("339.00")
        # when the supplier ships before anything is paid: refused, naming the amount
        with pytest.raises(Conflict) as refused:
            async with session.begin_nested():
                await _step(session, deal, SimpleStep.SHIP)
        assert refused.value.code == "prepayment_outstanding"
        assert "339.00 CNY" in refused.value.message
        # and after a partial transfer, only the rest is missing
        assert (await _transfer(session, deal, request.payment_reference, "139.00")).matched == 1
        with pytest.raises(Conflict) as still:
            async with session.begin_nested():
                await _step(session, deal, SimpleStep.SHIP)
        assert "200.00 CNY is still to be paid" in still.value.message
        # then the rest arrives and the order ships
        await _transfer(session, deal, request.payment_reference, "200.00")
        assert (await _step(session, deal, SimpleStep.SHIP)).status == "shipped"
        await as_owner(session)
        await session.refresh(request)
        assert (request.status, request.paid_amount) == ("paid", D("339.00"))
        assert await _unbalanced(session) == []

    async def test_production_is_gated_only_when_the_terms_say_so(self, session: AsyncSession, deal: Deal) -> None:
        await _terms(session, deal, "30% prepayment, net 30")
        assert (await _step(session, deal, SimpleStep.START_PRODUCTION)).status == "in_production"

    async def test_before_production_terms_gate_production_and_escrow_counts(
            self, session: AsyncSession, deal: Deal) -> None:
        # given
        await _terms(session, deal, "生产前预付50%，收货后50%")
        with pytest.raises(Conflict) as refused:
            async with session.begin_nested():
                await _step(session, deal, SimpleStep.START_PRODUCTION)
        assert "565.00 CNY" in refused.value.message
        # when the buyer pays the prepayment into escrow instead
        await act_as(session, deal.world.orders.buyer)
        await payments.deposit_escrow(session, actor=owner_actor(deal.world.orders.buyer), order_id=deal.order.id,
                                      amount=D("565.00"))
        # then production starts
        assert (await _step(session, deal, SimpleStep.START_PRODUCTION)).status == "in_production"

    async def test_orders_without_a_prepayment_are_not_gated(self, session: AsyncSession, deal: Deal) -> None:
        await _terms(session, deal, "月结 30 天")
        assert (await _step(session, deal, SimpleStep.SHIP)).status == "shipped"


class TestPaymentRequests:
    async def test_one_request_per_order_and_milestone_only_for_shares_in_the_terms(
            self, session: AsyncSession, deal: Deal) -> None:
        await _terms(session, deal, "30% prepayment, 60% on shipment, net 30")
        first = await _open(session, deal, Milestone.CONFIRMATION)
        assert first is not None
        assert await _open(session, deal, Milestone.CONFIRMATION) is None  # a redelivered event
        shipment = await _open(session, deal, Milestone.SHIPMENT)
        assert shipment is not None and (shipment.percent, shipment.amount) == (D("60"), D("678.00"))
        assert await _open(session, deal, Milestone.RECEIPT) is None  # no share on receipt
        assert first.payment_reference != shipment.payment_reference and first.due_date == TODAY
        await as_owner(session)
        opened = await session.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.topic == "payment_request.opened"))
        assert opened == 2
        # both parties see them
        await act_as(session, deal.world.orders.buyer)
        seen = await milestones.list_requests(session, order_id=deal.order.id)
        assert [r.milestone for r in seen] == ["confirmation", "shipment"]

    async def test_the_jobs_follow_the_milestone_topics(self) -> None:
        assert milestones.MILESTONE_TOPICS == {"order.confirmed": Milestone.CONFIRMATION,
                                               "shipment.dispatched": Milestone.SHIPMENT,
                                               "goods.received": Milestone.RECEIPT}
        assert callable(jobs.open_payment_request)

    async def test_prepayment_is_set_off_against_the_invoice_and_later_payments_too(
            self, session: AsyncSession, deal: Deal) -> None:
        # given a paid prepayment of 30 %
        await _terms(session, deal, "30% prepayment, 10% on receipt, net 30")
        request = await _open(session, deal, Milestone.CONFIRMATION)
        assert request is not None
        await _transfer(session, deal, request.payment_reference, "339.00")
        # when the order is received and invoiced in full
        await receive(session, deal.world, deal.order, deal.line, "10")
        issued = await invoice(session, deal.world, deal.order, deal.line)
        # then both parties see the invoice less the prepayment
        assert await postings.outstanding(session, issued, viewer_org_id=issued.supplier_org_id) == D("791.00")
        await act_as(session, deal.world.orders.buyer)
        assert await postings.outstanding(session, issued, viewer_org_id=issued.buyer_org_id) == D("791.00")
        # when the receipt share is requested and paid after the invoice
        receipt = await _open(session, deal, Milestone.RECEIPT)
        assert receipt is not None and receipt.amount == D("113.00")
        await _transfer(session, deal, receipt.payment_reference, "113.00")
        # then it pays the invoice at once, and the books balance
        assert await postings.outstanding(session, issued, viewer_org_id=issued.supplier_org_id) == D("678.00")
        await as_owner(session)
        applied = await session.scalars(select(PaymentRequest.applied_amount).where(
            PaymentRequest.order_id == deal.order.id).order_by(PaymentRequest.amount))
        assert list(applied) == [D("113.00"), D("339.00")]
        assert await _unbalanced(session) == []

    async def test_an_open_request_past_its_day_is_announced_overdue_once(
            self, session: AsyncSession, deal: Deal) -> None:
        await _terms(session, deal, "30% prepayment, net 30")
        assert await _open(session, deal, Milestone.CONFIRMATION) is not None
        await as_owner(session)
        assert await overdue.mark_overdue(session, today=TODAY + dt.timedelta(days=1)) == 1
        assert await overdue.mark_overdue(session, today=TODAY + dt.timedelta(days=2)) == 0
        announced = await session.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.topic == "payment_request.overdue"))
        assert announced == 2  # to the supplier and to the buyer


class TestPages:
    async def test_both_parties_see_the_request_the_buyer_with_transfer_instructions(
            self, client: AsyncClient, session: AsyncSession, deal: Deal) -> None:
        # given an open prepayment request
        await _terms(session, deal, "30% prepayment, net 30")
        request = await _open(session, deal, Milestone.CONFIRMATION)
        assert request is not None
        await as_owner(session)
        buyer = await make_member(session, org=deal.world.orders.buyer.org, roles=(Role.FINANCE,))
        supplier = await make_member(session, org=deal.world.orders.supplier.org, roles=(Role.FINANCE,))
        # when the buyer opens the invoices page
        await sign_in(client, buyer.user.email)
        seen = await client.get("/settlement/invoices")
        # then the request shows with the collection account, its reference and a card button
        assert seen.status_code == 200
        row = seen.text.split(f'data-request="{request.id}"')[1].split("</tr>")[0]
        assert request.payment_reference in row and PLATFORM_COLLECTION_ACCOUNT.account_number in row
        assert 'name="payment_request_id"' in row and "339" in row
        # and the supplier sees it too, without the payer's buttons
        client.cookies.clear()
        await sign_in(client, supplier.user.email)
        supplier_row = (await client.get("/settlement/invoices")).text.split(f'data-request="{request.id}"')[1]
        assert request.payment_reference in supplier_row.split("</tr>")[0]
        assert 'name="payment_request_id"' not in supplier_row.split("</tr>")[0]

    async def test_the_api_lists_requests_with_instructions(self, client: AsyncClient, session: AsyncSession,
                                                           deal: Deal) -> None:
        await _terms(session, deal, "预付30%，发货60%，收货后10%")
        for milestone in (Milestone.CONFIRMATION, Milestone.SHIPMENT):
            await _open(session, deal, milestone)
        listed = await client.get("/api/v1/settlement/payment-requests", params={"order_id": str(deal.order.id)},
                                  headers=deal.world.orders.buyer.headers)
        assert listed.status_code == 200
        assert [(row["milestone"], row["amount"], row["status"]) for row in listed.json()] == [
            ("confirmation", "339.0000", "open"), ("shipment", "678.0000", "open")]
        assert listed.json()[0]["instructions"]["reference"] == listed.json()[0]["payment_reference"]
        await as_owner(session)
        outsider = await make_member(session, roles=(Role.FINANCE,))
        assert (await client.get("/api/v1/settlement/payment-requests", headers=outsider.headers)).json() == []
