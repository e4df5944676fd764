"""A milestone payment request paid by card (the local Stripe stand-in): booked as an advance once, the request
paid, the prepayment gate open; a refund re-opens it. A request of another buyer cannot be paid."""

from decimal import Decimal

from httpx import AsyncClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from commerce import payment_port
from commerce.orders.models import PurchaseOrder
from commerce.settlement import milestones
from commerce.settlement.journal import AccountKind
from commerce.settlement.milestone_models import PaymentRequest
from commerce.settlement.rules import Milestone
from tests.commerce.settlement.conftest import Deal
from tests.factories import make_member
from tests.materials_factories import act_as, as_owner, owner_actor
from tests.stripe_support import PAYMENTS_API as API
from tests.stripe_support import balance, open_payment, pay
from tradeloom.identity.roles import Role

D = Decimal


async def _request(session: AsyncSession, deal: Deal) -> PaymentRequest:
    await as_owner(session)
    await session.execute(update(PurchaseOrder).where(PurchaseOrder.id == deal.order.id)
                          .values(payment_terms="30% prepayment, net 30"))
    await act_as(session, deal.world.orders.supplier)
    request = await milestones.open_request(session, actor=owner_actor(deal.world.orders.supplier),
                                            order_id=deal.order.id, milestone=Milestone.CONFIRMATION,
                                            today=deal.order.created_at.date())
    assert request is not None
    return request


async def test_a_card_pays_the_prepayment_request(stripe_client: AsyncClient, session: AsyncSession,
                                                  deal: Deal) -> None:
    # given an open prepayment request of 339.00 and the buyer's treasurer
    request = await _request(session, deal)
    await as_owner(session)
    buyer = await make_member(session, org=deal.world.orders.buyer.org, roles=(Role.FINANCE,))
    supplier = deal.world.orders.supplier
    # when the buyer pays it by card
    payment = await open_payment(stripe_client, buyer, supplier, amount="339.00",
                                 reference=request.payment_reference, payment_request_id=str(request.id))
    paid = await pay(stripe_client, buyer, payment)
    # then the request is paid, booked as an advance on both sides, and shipping is no longer gated
    assert paid.json()["status"] == "succeeded", paid.text
    await as_owner(session)
    await session.refresh(request)
    assert (request.status, request.paid_amount) == ("paid", D("339.00"))
    assert await balance(session, buyer, AccountKind.ADVANCES) == D("339.00")
    assert await balance(session, supplier, AccountKind.ADVANCES) == D("-339.00")
    facts = payment_port.OrderFacts(id=deal.order.id, number="PO", buyer_org_id=request.buyer_org_id,
                                    supplier_org_id=request.supplier_org_id, currency="CNY",
                                    gross_total=D("1130.00"), payment_terms="30% prepayment, net 30")
    await milestones.PrepaymentGate().check_step(session, order=facts, action="ship")  # no Conflict
    # when part of it is refunded, the request is open again for the rest
    refunded = await stripe_client.post(f"{API}/{payment['id']}/refunds", json={"amount": "100.00"},
                                        headers=buyer.headers | {"Idempotency-Key": "refund-request-1"})
    assert refunded.status_code == 201, refunded.text
    await as_owner(session)
    await session.refresh(request)
    assert (request.status, request.paid_amount) == ("open", D("239.00"))
    assert await balance(session, buyer, AccountKind.ADVANCES) == D("239.00")


async def test_only_the_orders_buyer_pays_its_request_to_its_supplier(stripe_client: AsyncClient,
                                                                       session: AsyncSession, deal: Deal) -> None:
    request = await _request(session, deal)
    await as_owner(session)
    outsider = await make_member(session, roles=(Role.FINANCE,))
    buyer = await make_member(session, org=deal.world.orders.buyer.org, roles=(Role.FINANCE,))
    body = {"supplier_org_id": str(deal.world.orders.supplier.org.id), "amount": "339.00", "currency": "CNY",
            "reference": request.payment_reference, "payment_request_id": str(request.id)}
    foreign = await stripe_client.post(API, json=body, headers=outsider.headers)
    wrong_currency = await stripe_client.post(API, json=body | {"currency": "USD"}, headers=buyer.headers)
    assert (foreign.status_code, foreign.json()["code"]) == (404, "payment_request_not_found")
    assert (wrong_currency.status_code, wrong_currency.json()["code"]) == (422, "payment_request_mismatch")
