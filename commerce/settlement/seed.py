"""Demo settlement: Ningbo Precision Fasteners (nbpf) invoices East China Heavy Machinery (ecm).

One invoice whose variance ecm accepted and which is half paid through an imported bank statement, one
invoice waiting in ecm's inbox with a match exception, and escrow paid for a third order. The first invoice is
offered for early payment, with an offer from the financier pjfin. Idempotent (does
nothing once nbpf has invoices); every step goes through the settlement services as the party whose step it is.
"""

import datetime as dt
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.orders.models import OrderLine, PurchaseOrder
from commerce.orders.rules import TaxRate
from commerce.settlement import invoices, payments
from commerce.settlement.finance import service as finance
from commerce.settlement.invoice_models import Invoice
from commerce.settlement.rules import FapiaoType, Resolution
from tradeloom.audit import Actor
from tradeloom.db import apply_tenant
from tradeloom.identity.roles import OrgKind
from tradeloom.seed import DemoWorld


async def _as(session: AsyncSession, actor: Actor) -> Actor:
    await apply_tenant(session, org_id=actor.org_id, user_id=actor.user_id)
    return actor


async def _invoice_whole_order(session: AsyncSession, sales: Actor, order: PurchaseOrder,
                               number: str) -> Invoice:
    await _as(session, sales)
    lines = (await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))).all()
    return await invoices.issue_invoice(
        session, actor=sales,
        fapiao=invoices.FapiaoDraft(FapiaoType.SPECIAL, number, dt.date.today()),
        lines=[invoices.InvoiceLineDraft(order.id, line.id, line.confirmed_quantity or line.quantity,
                                         line.unit_price, TaxRate(line.tax_rate)) for line in lines])


async def _offer_for_finance(session: AsyncSession, world: DemoWorld, sales: Actor, approved: Invoice) -> None:
    """nbpf offers the approved, half-paid invoice for early payment; the financier pjfin bids 9 % a year,
    open for two weeks (the supplier can accept it on the finance page)."""
    today = dt.date.today()
    request = await finance.request_early_payment(session, actor=await _as(session, sales), invoice_id=approved.id,
                                                  today=today)
    financier = Actor(org_id=world.organizations["pjfin"], user_id=world.users["pjfin.credit"])
    await finance.make_offer(session, actor=await _as(session, financier), org_kind=OrgKind.FINANCIER,
                             request_id=request.id, annual_rate_pct=Decimal(9), today=today,
                             expires_on=min(today + dt.timedelta(days=14), request.maturity))


async def seed_settlement(session: AsyncSession, world: DemoWorld) -> None:
    """Invoices, a bank statement and escrow between ecm and nbpf (runs as the owner; acts as each party)."""
    buyer_org, supplier_org = world.organizations["ecm"], world.organizations["nbpf"]
    if await session.scalar(select(Invoice.id).where(Invoice.supplier_org_id == supplier_org).limit(1)):
        return
    sales = Actor(org_id=supplier_org, user_id=world.users["nbpf.finance"])
    finance = Actor(org_id=buyer_org, user_id=world.users["ecm.finance"])
    orders = (await session.scalars(
        select(PurchaseOrder).where(PurchaseOrder.buyer_org_id == buyer_org, PurchaseOrder.supplier_org_id ==
                                    supplier_org, PurchaseOrder.status.in_(invoices.INVOICEABLE))
        .order_by(PurchaseOrder.number))).all()
    if len(orders) < 3:
        return
    accepted = await _invoice_whole_order(session, sales, orders[0], "44031001")
    await invoices.resolve_line(session, actor=await _as(session, finance), invoice_id=accepted.id, line_no=1,
                                resolution=Resolution.ACCEPT, note="收货单随后补录 / receipt follows",
                                expected_version=accepted.version)
    half = (accepted.gross_total / 2).quantize(Decimal("0.01"))
    statement = ("bank_ref,booking_date,amount,currency,remittance,payer_name\n"
                 f"CMB-0001,{dt.date.today()},{half},CNY,{accepted.payment_reference},华东重机\n"
                 f"CMB-0002,{dt.date.today()},88.00,CNY,unknown transfer,某客户\n")
    await payments.import_statement(session, actor=await _as(session, sales), filename="statement.csv",
                                    content=statement.encode())
    await _offer_for_finance(session, world, sales, accepted)
    await _invoice_whole_order(session, sales, orders[1], "44031002")
    await payments.deposit_escrow(session, actor=await _as(session, finance), order_id=orders[2].id,
                                  amount=orders[2].gross_total)
    await session.execute(text("RESET ROLE"))  # back to the owner for the seeds that follow
