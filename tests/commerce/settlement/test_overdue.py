"""Due dates enforced: the overdue check marks an invoice past due with something outstanding and announces it
once to both parties; paid or not yet due invoices are left alone."""

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement import overdue, payments
from commerce.settlement.invoice_models import Invoice
from tests.commerce.settlement.conftest import Deal
from tests.materials_factories import as_owner, owner_actor
from tests.settlement_factories import invoice, receive
from tradeloom.outbox.models import OutboxEvent


async def _overdue_events(session: AsyncSession, *invoices: Invoice) -> list[tuple[str, str]]:
    """The ``invoice.overdue`` events about these invoices (other tests' committed invoices may fall due too)."""
    rows = await session.execute(select(OutboxEvent.org_id, OutboxEvent.payload).where(
        OutboxEvent.topic == "invoice.overdue",
        OutboxEvent.payload["invoice_id"].astext.in_([str(item.id) for item in invoices])))
    return sorted((str(org_id), payload["invoice_id"]) for org_id, payload in rows.all())


async def test_an_unpaid_invoice_past_its_due_date_is_marked_and_announced_once(
        session: AsyncSession, deal: Deal) -> None:
    # given two approved invoices of the order, one of them paid in full
    await receive(session, deal.world, deal.order, deal.line, "10")
    unpaid = await invoice(session, deal.world, deal.order, deal.line, quantity="4")
    paid = await invoice(session, deal.world, deal.order, deal.line, quantity="6")
    await payments.record_invoice_payment(session, actor=owner_actor(deal.world.orders.supplier), invoice=paid,
                                          amount=paid.gross_total, method="bank_transfer", reference="test")
    await as_owner(session)
    # when the check runs on the due date: nothing is overdue yet
    await overdue.mark_overdue(session, today=unpaid.due_date)
    assert await _overdue_events(session, unpaid, paid) == []
    # when it runs the day after, twice
    after = unpaid.due_date + dt.timedelta(days=1)
    await overdue.mark_overdue(session, today=after)
    await overdue.mark_overdue(session, today=after)
    # then only the unpaid one is overdue, announced once to the supplier and once to the buyer
    await session.refresh(unpaid)
    await session.refresh(paid)
    assert (unpaid.overdue_since, paid.overdue_since) == (after, None)
    assert await _overdue_events(session, unpaid, paid) == sorted(
        [(str(unpaid.supplier_org_id), str(unpaid.id)), (str(unpaid.buyer_org_id), str(unpaid.id))])
