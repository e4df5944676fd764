"""Property: whatever sequence of settlement operations runs (invoices, partial and over-payments, escrow
deposits, releases, refunds, credit notes) — including refused ones — every journal entry balances, in
total and per organization, and both parties read the same amount outstanding on every invoice."""

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement import notes, payments, postings
from commerce.settlement.invoice_models import Invoice
from commerce.settlement.models import JournalPosting
from commerce.settlement.rules import InvoiceKind
from tests.commerce.settlement.conftest import Deal
from tests.materials_factories import act_as, as_owner, owner_actor
from tests.settlement_factories import fapiao, invoice, receive
from tradeloom.errors import TradeloomError

D = Decimal
QUANTITIES = st.integers(1, 4)
AMOUNTS = st.decimals(min_value=D("0.01"), max_value=D("800.00"), places=2)
OPERATIONS = st.lists(st.one_of(
    st.tuples(st.just("invoice"), QUANTITIES), st.tuples(st.just("receive"), QUANTITIES),
    st.tuples(st.just("pay"), AMOUNTS), st.tuples(st.just("deposit"), AMOUNTS),
    st.tuples(st.just("release"), st.just(0)), st.tuples(st.just("credit"), QUANTITIES),
    st.tuples(st.just("cancel_and_refund"), st.just(0)),
), min_size=1, max_size=7)


async def _run(session: AsyncSession, deal: Deal, operation: str, value: object, issued: list[Invoice]) -> None:
    orders = deal.world.orders
    if operation == "invoice":
        issued.append(await invoice(session, deal.world, deal.order, deal.line, quantity=str(value)))
    elif operation == "receive":
        await receive(session, deal.world, deal.order, deal.line, str(value))
    elif operation == "pay" and issued:
        await act_as(session, orders.supplier)
        await payments.record_invoice_payment(session, actor=owner_actor(orders.supplier), invoice=issued[-1],
                                              amount=D(str(value)), method="bank_transfer", reference="test")
    elif operation == "deposit":
        await act_as(session, orders.buyer)
        await payments.deposit_escrow(session, actor=owner_actor(orders.buyer), order_id=deal.order.id,
                                      amount=D(str(value)))
    elif operation == "release":
        await act_as(session, orders.buyer)
        await payments.release_escrow(session, actor=owner_actor(orders.buyer), order_id=deal.order.id)
    elif operation == "credit" and issued:
        await act_as(session, orders.supplier)
        await notes.issue_note(session, actor=owner_actor(orders.supplier), invoice_id=issued[0].id,
                               kind=InvoiceKind.CREDIT_NOTE, fapiao=fapiao(), lines=[
                                   notes.NoteLineDraft(1, notes.Adjusts.QUANTITY, D(str(value)), D("100.00"))])
    elif operation == "cancel_and_refund":
        await as_owner(session)
        await session.execute(text("UPDATE purchase_orders SET status = 'cancelled' WHERE id = :id"),
                              {"id": deal.order.id})
        session.expunge_all()
        await act_as(session, orders.buyer)
        await payments.refund_escrow(session, actor=owner_actor(orders.buyer), order_id=deal.order.id)


async def _assert_books_balance(session: AsyncSession, deal: Deal, issued: list[Invoice]) -> None:
    await as_owner(session)
    net = func.sum(JournalPosting.debit - JournalPosting.credit)
    unbalanced = (await session.execute(select(JournalPosting.entry_id, JournalPosting.org_id)
                                        .group_by(JournalPosting.entry_id, JournalPosting.org_id)
                                        .having(net != 0))).all()
    assert unbalanced == []
    for item in issued:
        await act_as(session, deal.world.orders.supplier)
        owed_to_supplier = await postings.outstanding(session, item, viewer_org_id=item.supplier_org_id)
        await act_as(session, deal.world.orders.buyer)
        assert await postings.outstanding(session, item, viewer_org_id=item.buyer_org_id) == owed_to_supplier
    assert await postings.escrow_held(session, order_id=deal.order.id, buyer_org_id=deal.order.buyer_org_id,
                                      currency="CNY") >= 0


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
async def test_the_books_balance_after_any_sequence_of_operations(
        session: AsyncSession, deal: Deal, operations: list[tuple[str, object]]) -> None:
    savepoint = await session.begin_nested()  # each example starts from the same order
    issued: list[Invoice] = []
    try:
        for operation, value in operations:
            try:
                async with session.begin_nested():
                    await _run(session, deal, operation, value, issued)
            except TradeloomError:
                pass  # a refused step (over-invoicing, over-deposit, nothing to refund …) changes nothing
            await _assert_books_balance(session, deal, issued)
    finally:
        await savepoint.rollback()
        session.expunge_all()
