"""Card payment page: the buyer picks an approved invoice, pays it by card (Stripe), and sees what was received;
the supplier sees the card payments it received."""

import uuid
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from commerce.settlement import invoices, milestones, postings
from commerce.settlement.rules import InvoiceStatus
from commerce.settlement.stripe import service
from commerce.settlement.stripe.api import stripe_gateway
from commerce.settlement.stripe.gateway import StripeGateway
from commerce.settlement.stripe.local_server import DECLINED_METHOD, SUCCEEDING_METHOD
from tradeloom.auth import Principal
from tradeloom.errors import NotFound
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import TransactionalRoute, Tx
from tradeloom.web.forms import run_form_action, show_page_again
from tradeloom.web.labels import N_
from tradeloom.web.navigation import NavItem, add_nav_item
from tradeloom.web.pages import Member
from tradeloom.web.templating import add_template_dir, environment, render

router = PrefixedRouter(prefix="/settlement/card-payments", route_class=TransactionalRoute, include_in_schema=False)
PAGE = "/settlement/card-payments"
STATUS_LABELS = {
    "created": N_("Awaiting card"), "requires_payment_method": N_("Awaiting card"),
    "requires_confirmation": N_("Awaiting confirmation"), "requires_action": N_("Awaiting authentication"),
    "processing": N_("Processing"), "requires_capture": N_("Authorised"), "succeeded": N_("Paid"),
    "canceled": N_("Cancelled"),
}
# Stripe's test cards, offered when the platform talks to Stripe's test mode or the local stand-in.
TEST_CARDS = ((SUCCEEDING_METHOD, N_("Visa test card (succeeds)")),
              (DECLINED_METHOD, N_("Test card that is declined")))


async def _page(request: Request, principal: Principal, session: AsyncSession, errors: list[str],
                status_code: int = 200) -> Response:
    payable = []
    if principal.can(Permission.PAYMENT_MANAGE):
        for invoice in await invoices.list_invoices(session, actor=principal.actor, status=InvoiceStatus.APPROVED):
            if invoice.buyer_org_id == principal.org_id:
                outstanding = await postings.outstanding(session, invoice, viewer_org_id=principal.org_id)
                if outstanding > 0:
                    payable.append((invoice, outstanding))
    return render(request, "stripe/payments.html", {
        "payments": await service.list_payments(session), "payable": payable, "errors": errors,
        "test_cards": TEST_CARDS}, principal=principal, status_code=status_code)


@router.get("")
async def payments_page(request: Request, principal: Member, tx: Tx) -> Response:
    return await _page(request, principal, await tx.session(), [])


@router.post("")
async def open_for_invoice(request: Request, principal: Member, tx: Tx) -> Response:
    """Open a card payment of what is outstanding on one of the buyer's approved invoices."""
    principal.require(Permission.PAYMENT_MANAGE)
    gateway = stripe_gateway(request)

    async def action(session: AsyncSession, form: FormData) -> None:
        if form.get("payment_request_id"):
            await _open_for_request(session, gateway, principal, _uuid(form.get("payment_request_id")))
            return
        invoice = await invoices.load_invoice(session, _uuid(form.get("invoice_id")))
        outstanding = await postings.outstanding(session, invoice, viewer_org_id=principal.org_id)
        await service.create_payment(session, gateway, actor=principal.actor, supplier_org_id=invoice.supplier_org_id,
                                     amount=outstanding, currency=invoice.currency, reference=invoice.fapiao_number,
                                     invoice_id=invoice.id)

    return await run_form_action(request, tx, action, done_url=PAGE,
                                 show_again=show_page_again(_page, request, principal))


async def _open_for_request(session: AsyncSession, gateway: StripeGateway, principal: Principal,
                            request_id: uuid.UUID) -> None:
    """A card payment of what is still open on one of the buyer's milestone payment requests."""
    request = next((r for r in await milestones.list_requests(session, status="open") if r.id == request_id), None)
    if request is None or request.buyer_org_id != principal.org_id:
        raise NotFound("No such open payment request of yours.", code="payment_request_not_found")
    await service.create_payment(session, gateway, actor=principal.actor, supplier_org_id=request.supplier_org_id,
                                 amount=request.amount - request.paid_amount, currency=request.currency,
                                 reference=request.payment_reference, payment_request_id=request.id)


@router.post("/{payment_id}/pay")
async def pay_by_card(payment_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    """Confirm the payment with the chosen card."""
    principal.require(Permission.PAYMENT_MANAGE)
    gateway = stripe_gateway(request)

    async def action(session: AsyncSession, form: FormData) -> None:
        await service.confirm_payment(session, gateway, actor=principal.actor, payment_id=payment_id,
                                      payment_method=str(form.get("payment_method") or ""))

    return await run_form_action(request, tx, action, done_url=PAGE,
                                 show_again=show_page_again(_page, request, principal))



def _uuid(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return uuid.UUID(int=0)  # no invoice has it: the service answers "not found"


def install(app: FastAPI) -> None:
    """The card payment page and its menu entry (for members who pay or are paid)."""
    add_template_dir(Path(__file__).resolve().parent / "templates")
    environment.globals.update(card_payment_status=lambda value: STATUS_LABELS.get(value, value))
    app.include_router(router)
    add_nav_item(NavItem(PAGE, N_("Card payments"), permission=Permission.PAYMENT_MANAGE, order=60))
