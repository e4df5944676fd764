"""Orders: place orders, read them with their timeline, move them through their life."""

import datetime as dt
import uuid
from typing import Annotated

from fastapi import Depends, Query, Response

from commerce.orders.models import PurchaseOrder
from commerce.orders.rules import STEPS, OrderStatus, SimpleStep
from commerce.orders.schemas import (
    CartCheckout,
    ConfirmIn,
    OrderCreate,
    OrderDetailOut,
    OrderEventOut,
    OrderLineOut,
    OrderOut,
    OrderPage,
    StepIn,
)
from commerce.orders.service import create, queries, transitions
from commerce.orders.service.create import CartLine, OrderLineDraft, OrderTerms
from commerce.orders.service.transitions import LineConfirmationDraft
from tradeloom.auth import CurrentPrincipal, Principal, requires
from tradeloom.concurrency import ExpectedVersion, set_etag
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.pagination import Cursor, PageSize
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

PREFIX = "/api/v1/orders"
router = PrefixedRouter(prefix=PREFIX, tags=["purchase orders"], route_class=TransactionalRoute)
Buyer = Annotated[Principal, Depends(requires(Permission.ORDER_CREATE))]
Approver = Annotated[Principal, Depends(requires(Permission.ORDER_APPROVE))]
SupplierSales = Annotated[Principal, Depends(requires(Permission.ORDER_CONFIRM))]


def answer(response: Response, order: PurchaseOrder) -> OrderOut:
    set_etag(response, order.version)
    return OrderOut.model_validate(order)


def _terms(body: OrderCreate | CartCheckout) -> OrderTerms:
    return OrderTerms(payment_terms=body.payment_terms, requested_date=body.requested_date,
                      cost_centre=body.cost_centre)


@router.post("", status_code=201)
async def create_order(
    body: OrderCreate, principal: Buyer, session: DbSession, response: Response, _key: Idempotent
) -> OrderOut:
    """Place a draft order at prices agreed elsewhere (an award or a framework contract's call-off)."""
    order = await create.create_order(
        session, actor=principal.actor, supplier_org_id=body.supplier_org_id, delivery_site_id=body.delivery_site_id,
        currency=body.currency, source=body.source, reference=body.reference, terms=_terms(body),
        lines=[OrderLineDraft(material_id=line.material_id, quantity=line.quantity, unit=line.unit,
                              unit_price=line.unit_price, tax_rate=line.tax_rate, requested_date=line.requested_date)
               for line in body.lines],
    )
    response.headers["Location"] = f"{PREFIX}/{order.id}"
    return answer(response, order)


@router.post("/from-cart", status_code=201)
async def checkout_cart(
    body: CartCheckout, principal: Buyer, session: DbSession, response: Response, _key: Idempotent
) -> OrderOut:
    """Order a cart from one supplier at today's engine prices; ``submit`` sends it on to approval at once."""
    order = await create.create_order_from_cart(
        session, actor=principal.actor, supplier_org_id=body.supplier_org_id, delivery_site_id=body.delivery_site_id,
        terms=_terms(body),
        lines=[CartLine(material_code=line.material_code, quantity=line.quantity, unit=line.unit,
                        tax_rate=line.tax_rate, requested_date=line.requested_date) for line in body.lines],
        submit=body.submit,
    )
    response.headers["Location"] = f"{PREFIX}/{order.id}"
    return answer(response, order)


@router.get("")
async def list_orders(
    principal: CurrentPrincipal, session: DbSession, limit: PageSize = 50, cursor: Cursor = None,
    status: OrderStatus | None = None, supplier_org_id: uuid.UUID | None = None,
    buyer_org_id: uuid.UUID | None = None, created_from: Annotated[dt.date | None, Query()] = None,
    created_to: Annotated[dt.date | None, Query()] = None,
) -> OrderPage:
    """Orders your organization buys or supplies, newest first, with filters."""
    filters = queries.OrderFilter(status=status, supplier_org_id=supplier_org_id, buyer_org_id=buyer_org_id,
                                  created_from=created_from, created_to=created_to)
    found, next_cursor = await queries.list_orders(session, filters=filters, limit=limit, cursor=cursor)
    return OrderPage(items=[OrderOut.model_validate(order) for order in found], next_cursor=next_cursor)


@router.get("/approval-queue")
async def approval_queue(principal: Approver, session: DbSession) -> list[OrderOut]:
    """Submitted orders you may approve (never your own), oldest first."""
    return [OrderOut.model_validate(o) for o in await queries.approval_queue(session, actor=principal.actor)]


@router.get("/inbox")
async def supplier_inbox(principal: SupplierSales, session: DbSession) -> list[OrderOut]:
    """Orders sent to your organization that wait for confirmation, oldest first."""
    return [OrderOut.model_validate(o) for o in await queries.supplier_inbox(session, actor=principal.actor)]


@router.get("/{order_id}")
async def get_order(
    order_id: uuid.UUID, principal: CurrentPrincipal, session: DbSession, response: Response
) -> OrderDetailOut:
    """One order with its lines and timeline; its version as ETag."""
    detail = await queries.order_detail(session, order_id=order_id)
    set_etag(response, detail.order.version)
    return OrderDetailOut(
        **OrderOut.model_validate(detail.order).model_dump(),
        lines=[OrderLineOut.model_validate(line) for line in detail.lines],
        timeline=[OrderEventOut.model_validate(event) for event in detail.timeline],
    )


def _note(body: StepIn | None) -> str | None:
    return body.note if body else None


@router.post("/{order_id}/submit")
async def submit_order(
    order_id: uuid.UUID, principal: Buyer, session: DbSession, response: Response, expected_version: ExpectedVersion,
    _key: Idempotent, body: StepIn | None = None,
) -> OrderOut:
    """Submit a draft for approval (it goes straight to the supplier when no approval rule applies)."""
    return answer(response, await transitions.submit_order(
        session, actor=principal.actor, order_id=order_id, expected_version=expected_version, note=_note(body)))


@router.post("/{order_id}/approve")
async def approve_order(
    order_id: uuid.UUID, principal: Approver, session: DbSession, response: Response,
    expected_version: ExpectedVersion, _key: Idempotent, body: StepIn | None = None,
) -> OrderOut:
    """Approve a submitted order of your organization (not one you placed); the last approval sends it."""
    return answer(response, await transitions.approve_order(
        session, actor=principal.actor, order_id=order_id, expected_version=expected_version, note=_note(body)))


@router.post("/{order_id}/reject-approval")
async def reject_approval(
    order_id: uuid.UUID, principal: Approver, session: DbSession, response: Response,
    expected_version: ExpectedVersion, _key: Idempotent, body: StepIn | None = None,
) -> OrderOut:
    """Send a submitted order back to draft, with the reason in ``note``."""
    return answer(response, await transitions.reject_approval(
        session, actor=principal.actor, order_id=order_id, expected_version=expected_version, note=_note(body)))


@router.post("/{order_id}/confirm")
async def confirm_order(
    order_id: uuid.UUID, principal: SupplierSales, session: DbSession, response: Response,
    expected_version: ExpectedVersion, _key: Idempotent, body: ConfirmIn | None = None,
) -> OrderOut:
    """Confirm an order sent to you, as ordered or with changed quantities/dates for some lines."""
    changes = [LineConfirmationDraft(line.line_id, line.quantity, line.date) for line in body.lines] if body else []
    return answer(response, await transitions.confirm_order(
        session, actor=principal.actor, order_id=order_id, expected_version=expected_version, lines=changes,
        note=body.note if body else None))


@router.post("/{order_id}/reject")
async def reject_order(
    order_id: uuid.UUID, principal: SupplierSales, session: DbSession, response: Response,
    expected_version: ExpectedVersion, _key: Idempotent, body: StepIn | None = None,
) -> OrderOut:
    """Decline an order sent to you."""
    return answer(response, await transitions.reject_order(
        session, actor=principal.actor, order_id=order_id, expected_version=expected_version, note=_note(body)))


@router.post("/{order_id}/cancel")
async def cancel_order(
    order_id: uuid.UUID, principal: Buyer, session: DbSession, response: Response,
    expected_version: ExpectedVersion, _key: Idempotent, body: StepIn | None = None,
) -> OrderOut:
    """Cancel your order before the supplier has confirmed it."""
    return answer(response, await transitions.cancel_order(
        session, actor=principal.actor, order_id=order_id, expected_version=expected_version, note=_note(body)))


@router.post("/{order_id}/{step}")
async def advance_order(
    order_id: uuid.UUID, step: SimpleStep, principal: CurrentPrincipal, session: DbSession, response: Response,
    expected_version: ExpectedVersion, _key: Idempotent, body: StepIn | None = None,
) -> OrderOut:
    """Production and shipping (supplier), receipt and closing (buyer)."""
    principal.require(STEPS[step.value].permission)
    return answer(response, await transitions.advance_order(
        session, actor=principal.actor, order_id=order_id, expected_version=expected_version, action=step,
        note=_note(body)))
