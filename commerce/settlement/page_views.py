"""What the settlement pages show, gathered from the services (no form handling here)."""

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.receipts import received_quantities
from commerce.orders.models import OrderLine, PurchaseOrder
from commerce.orders.service.queries import OrderFilter, list_orders, order_detail
from commerce.settlement import invoices, milestones, payments, postings, service
from commerce.settlement.invoice_models import Invoice, Payment
from commerce.settlement.rules import (
    CENTS,
    ORDER_EVENTS,
    Milestone,
    installment_due,
    is_overdue,
    payment_schedule,
)
from tradeloom.auth import Principal
from tradeloom.identity.roles import Permission


@dataclass(frozen=True)
class InvoiceableLine:
    line: OrderLine
    invoiced: Decimal
    received: Decimal

    @property
    def proposed(self) -> Decimal:
        """What to invoice now: what was received and not invoiced yet."""
        return max(min(self.received, self.line.confirmed_quantity or self.line.quantity) - self.invoiced, Decimal(0))


@dataclass(frozen=True)
class ScheduleRow:
    order_number: str
    milestone: Milestone
    percent: Decimal
    amount: Decimal
    due: dt.date | None


async def order_schedule(session: AsyncSession, order_id: uuid.UUID, invoice_date: dt.date) -> list[ScheduleRow]:
    """The order's payment terms as shares with amounts and due dates (None: milestone not reached yet)."""
    detail = await order_detail(session, order_id=order_id)
    reached: dict[Milestone, dt.date] = {}
    for event in detail.timeline:
        if event.kind in ORDER_EVENTS:
            reached.setdefault(ORDER_EVENTS[event.kind], event.at.date())
    terms = detail.order.payment_terms
    return [ScheduleRow(detail.order.number, item.milestone, item.percent,
                        (detail.order.gross_total * item.percent / 100).quantize(CENTS, rounding=ROUND_HALF_UP),
                        installment_due(item, reached=reached, payment_terms=terms, invoice_date=invoice_date))
            for item in payment_schedule(terms)]


@dataclass(frozen=True)
class EscrowView:
    order_id: uuid.UUID
    held: Decimal
    currency: str


async def invoiceable_orders(session: AsyncSession, principal: Principal) -> list[PurchaseOrder]:
    """The supplier's recent orders that can be invoiced."""
    orders, _ = await list_orders(session, filters=OrderFilter(supplier_org_id=principal.org_id), limit=50,
                                  cursor=None)
    return [order for order in orders if order.status in invoices.INVOICEABLE]


async def invoiceable_lines(session: AsyncSession, order_id: uuid.UUID) -> tuple[PurchaseOrder, list[InvoiceableLine]]:
    detail = await order_detail(session, order_id=order_id)
    ids = [line.id for line in detail.lines]
    invoiced = await invoices._already_invoiced(session, ids)
    received = await received_quantities(session, order_line_ids=ids)
    return detail.order, [InvoiceableLine(line, invoiced[line.id], received[line.id]) for line in detail.lines]


async def invoice_page(session: AsyncSession, principal: Principal, invoice_id: uuid.UUID) -> dict[str, object]:
    view = await invoices.invoice_view(session, actor=principal.actor, invoice_id=invoice_id)
    invoice = view.invoice
    context: dict[str, object] = {
        "invoice": invoice, "lines": view.lines, "outstanding": view.outstanding,
        "overdue": is_overdue(invoice.due_date, view.outstanding, dt.date.today()),
        "is_buyer": principal.org_id == invoice.buyer_org_id, "escrows": [], "instructions": None,
        "schedule": [row for order_id in dict.fromkeys(line.order_id for line in view.lines)
                     for row in await order_schedule(session, order_id, invoice.issue_date)],
    }
    if principal.org_id == invoice.buyer_org_id:
        context["instructions"] = (await service.payment_instructions(
            session, actor=principal.actor, invoice_id=invoice_id))[1].instructions
        context["escrows"] = [EscrowView(order_id, await postings.escrow_held(
            session, order_id=order_id, buyer_org_id=invoice.buyer_org_id, currency=invoice.currency),
            invoice.currency) for order_id in dict.fromkeys(line.order_id for line in view.lines)]
    return context


async def invoice_list(session: AsyncSession, principal: Principal) -> dict[str, object]:
    found: list[Invoice] = await invoices.list_invoices(session, actor=principal.actor)
    received: list[Payment] = [p for p in await payments.payments_for(session)
                               if p.supplier_org_id == principal.org_id]
    return {
        "issued": [i for i in found if i.supplier_org_id == principal.org_id],
        "inbox": [i for i in found if i.buyer_org_id == principal.org_id],
        "payments": received,
        "orders": await invoiceable_orders(session, principal) if principal.can(Permission.INVOICE_ISSUE) else [],
        "payment_requests": [(request, milestones.transfer_instructions(request))
                             for request in await milestones.list_requests(session)],
        "today": dt.date.today(),
    }
