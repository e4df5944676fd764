"""Property: a financed (assigned) invoice paid by bank transfer — statement lines of random amounts, matched by
reference, then perhaps the buyer's settlement at maturity — pays the financier, never the supplier, and every
entry still balances for each organization."""

import datetime as dt
import uuid
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement import journal, payments, postings
from commerce.settlement.finance import service as finance
from commerce.settlement.finance.models import ReceivableAssignment
from commerce.settlement.invoice_models import Invoice
from commerce.settlement.journal import AccountKind as A
from commerce.settlement.models import JournalPosting
from tests.commerce.settlement.conftest import Deal
from tests.factories import Member, make_member
from tests.materials_factories import act_as, as_owner, owner_actor
from tests.settlement_factories import invoice, receive
from tradeloom.errors import Conflict
from tradeloom.identity.roles import OrgKind, Role
from tradeloom.outbox.models import OutboxEvent

D = Decimal
GROSS = D("1130.00")
TRANSFERS = st.lists(st.decimals(min_value=D("0.01"), max_value=D("700.00"), places=2), min_size=1, max_size=3)


async def _financed(session: AsyncSession, deal: Deal, financier: Member) -> tuple[Invoice, D]:
    """The order received and invoiced (1,130.00, approved), assigned to the financier at 12 %; the advance."""
    await receive(session, deal.world, deal.order, deal.line, "10")
    issued = await invoice(session, deal.world, deal.order, deal.line)
    supplier = owner_actor(deal.world.orders.supplier)
    today = dt.date.today()
    request = await finance.request_early_payment(session, actor=supplier, invoice_id=issued.id, today=today)
    await act_as(session, financier)
    offer = await finance.make_offer(session, actor=owner_actor(financier), org_kind=OrgKind.FINANCIER,
                                     request_id=request.id, annual_rate_pct=D("12"), today=today)
    await act_as(session, deal.world.orders.supplier)
    await finance.accept_offer(session, actor=supplier, offer_id=offer.id, today=today)
    return issued, offer.advance


def _csv(issued: Invoice, amounts: list[Decimal]) -> bytes:
    rows = [f"B-{uuid.uuid4().hex[:12]},{dt.date.today()},{amount},CNY,{issued.payment_reference},Buyer"
            for amount in amounts]
    return "\n".join(["bank_ref,booking_date,amount,currency,remittance,payer_name", *rows]).encode()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(transfers=TRANSFERS, settle=st.booleans())
async def test_bank_transfers_of_a_financed_invoice_pay_the_financier_and_balance(
        session: AsyncSession, deal: Deal, transfers: list[Decimal], settle: bool) -> None:
    savepoint = await session.begin_nested()  # each example starts from the same order
    try:
        await as_owner(session)
        financier = await make_member(session, roles=(Role.FINANCE,), kind=OrgKind.FINANCIER)
        issued, advance = await _financed(session, deal, financier)
        # when the supplier imports the buyer's transfers quoting the invoice's reference
        result = await payments.import_statement(session, actor=owner_actor(deal.world.orders.supplier),
                                                 filename="s.csv", content=_csv(issued, transfers))
        assert result.matched == len(transfers)
        paid = sum(transfers, D(0))
        # and perhaps the buyer settles the assignment at maturity (what it still owes, if anything)
        if settle:
            await act_as(session, deal.world.orders.buyer)
            try:
                async with session.begin_nested():
                    await finance.settle_assignment(session, actor=owner_actor(deal.world.orders.buyer),
                                                    assignment_id=(await finance.list_assignments(session))[0].id)
                paid = max(paid, GROSS)
            except Conflict:
                assert paid >= GROSS  # nothing left to settle
        # then every entry balances per organization …
        await as_owner(session)
        net = func.sum(JournalPosting.debit - JournalPosting.credit)
        assert (await session.execute(select(JournalPosting.entry_id, JournalPosting.org_id)
                                      .group_by(JournalPosting.entry_id, JournalPosting.org_id)
                                      .having(net != 0))).all() == []
        # … the money went to the financier, the supplier kept only its advance …
        prefix = postings.invoice_prefix(issued.id)

        async def booked(org_id: uuid.UUID, account: A) -> Decimal:
            return await journal.balance(session, org_id=org_id, account=account, currency="CNY",
                                         reference_prefix=prefix)
        assert await booked(financier.org.id, A.RECEIVABLE) == GROSS - paid
        assert await booked(issued.supplier_org_id, A.RECEIVABLE) == 0
        assert await booked(issued.supplier_org_id, A.BANK) == advance
        # … the assignment counts what reached the financier and is settled once that covers it …
        assignment = await session.scalar(select(ReceivableAssignment).where(
            ReceivableAssignment.invoice_id == issued.id).execution_options(populate_existing=True))
        assert assignment is not None
        assert (assignment.paid_amount, assignment.status) == (paid, "settled" if paid >= GROSS else "assigned")
        assert (assignment.settled_at is not None) == (paid >= GROSS)
        settled_events = await session.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.topic == "finance.settled", OutboxEvent.payload["invoice_id"].astext == str(issued.id)))
        assert settled_events == (1 if paid >= GROSS else 0)
        # … and the buyer owes exactly what the financier is owed
        await act_as(session, deal.world.orders.buyer)
        assert await postings.outstanding(session, issued, viewer_org_id=issued.buyer_org_id) == GROSS - paid
    finally:
        await savepoint.rollback()
        session.expunge_all()
