"""Order pages: cart and checkout, order list and detail with timeline, approval queue, supplier inbox
(change requests: ``change_pages``).

Each page calls the same services as the API; a refused step is shown on the page, never a 500.
"""

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.service.materials import find_material_by_code
from catalog.service.pricing import price_for
from commerce.orders import change_pages
from commerce.orders.labels import STATUS_LABELS
from commerce.orders.models import PurchaseOrder
from commerce.orders.page_views import detail_page, org_names
from commerce.orders.rules import CANCEL, CHANGE_PERMISSIONS, STEPS, OrderStatus, SimpleStep
from commerce.orders.schemas import CartLineIn
from commerce.orders.service import create, queries, transitions
from commerce.orders.service.create import CartLine, OrderTerms
from commerce.orders.service.transitions import LineConfirmationDraft
from tradeloom.auth import Principal
from tradeloom.db import utcnow
from tradeloom.errors import Invalid, TradeloomError
from tradeloom.identity.roles import OrgKind, Permission
from tradeloom.identity.service import list_organizations
from tradeloom.sites.service import list_sites
from tradeloom.transaction import TransactionalRoute, Tx
from tradeloom.web.forms import form_errors, form_fields
from tradeloom.web.i18n import request_locale
from tradeloom.web.labels import N_
from tradeloom.web.navigation import NavItem, add_nav_item
from tradeloom.web.pages import Member
from tradeloom.web.templating import add_template_dir, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
CART_ROWS = 5
_SUPPLYING = (OrgKind.SUPPLIER, OrgKind.BOTH)


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


@router.get("/orders")
async def order_list(request: Request, principal: Member, tx: Tx, status: str = "", created_from: str = "",
                     created_to: str = "", cursor: str | None = None) -> Response:
    session = await tx.session()
    filters = queries.OrderFilter(status=OrderStatus(status) if status in OrderStatus._value2member_map_ else None,
                                  created_from=_date(created_from), created_to=_date(created_to))
    try:
        orders, next_cursor = await queries.list_orders(session, filters=filters, limit=50, cursor=cursor)
    except Invalid:
        orders, next_cursor = await queries.list_orders(session, filters=filters, limit=50, cursor=None)
    return render(request, "orders/list.html", {
        "orders": orders, "next_cursor": next_cursor, "names": await org_names(request, session),
        "filters": {"status": status, "created_from": created_from, "created_to": created_to},
        "statuses": list(OrderStatus), "status_labels": STATUS_LABELS, "title": N_("Purchase orders"),
    }, principal=principal)


async def _queue_page(request: Request, principal: Principal, session: AsyncSession,
                      orders: list[PurchaseOrder], title: str, intro: str) -> Response:
    return render(request, "orders/queue.html", {
        "orders": orders, "names": await org_names(request, session), "status_labels": STATUS_LABELS,
        "title": title, "intro": intro,
    }, principal=principal)


@router.get("/orders/approvals")
async def approval_page(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.ORDER_APPROVE)
    session = await tx.session()
    return await _queue_page(
        request, principal, session, await queries.approval_queue(session, actor=principal.actor),
        N_("Approval queue"), N_("Submitted orders of your organization waiting for your approval."))


@router.get("/orders/inbox")
async def inbox_page(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.ORDER_CONFIRM)
    session = await tx.session()
    return await _queue_page(
        request, principal, session, await queries.supplier_inbox(session, actor=principal.actor), N_("Order inbox"),
        N_("Orders your customers sent you: confirm them as ordered, with changes, or reject them."))


async def _cart_page(request: Request, principal: Principal, session: AsyncSession, form: dict[str, str],
                     errors: list[str], status_code: int = 200) -> Response:
    suppliers = [org for org in await list_organizations(session)
                 if org.kind in _SUPPLYING and org.id != principal.org_id]
    sites, _ = await list_sites(session, limit=500, cursor=None, active_only=True)
    return render(request, "orders/cart.html", {
        "suppliers": suppliers, "sites": sites, "form": form, "errors": errors, "rows": range(CART_ROWS),
    }, principal=principal, status_code=status_code)


@router.get("/orders/cart")
async def cart_page(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.ORDER_CREATE)
    return await _cart_page(request, principal, await tx.session(), {}, [])


def _cart_lines(form: dict[str, str]) -> list[CartLine]:
    """The filled rows of the cart form (a row without a code is empty), validated like the API's."""
    lines = []
    for row in range(CART_ROWS):
        code = form.get(f"code_{row}", "").strip()
        if code:
            line = CartLineIn.model_validate({"material_code": code, "quantity": form.get(f"quantity_{row}", ""),
                                              "unit": form.get(f"unit_{row}", "").strip().upper()})
            lines.append(CartLine(material_code=line.material_code, quantity=line.quantity, unit=line.unit))
    return lines


@router.post("/orders/cart/price")
async def cart_price(request: Request, principal: Member, tx: Tx, row: int = 0) -> Response:
    """htmx: the live engine price of one cart row for the chosen supplier."""
    principal.require(Permission.ORDER_CREATE)
    form, session = await form_fields(request), await tx.session()
    try:
        line = CartLineIn.model_validate({"material_code": form.get(f"code_{row}", ""),
                                          "quantity": form.get(f"quantity_{row}", ""),
                                          "unit": form.get(f"unit_{row}", "").strip().upper()})
        material = (await find_material_by_code(session, code=line.material_code)).material
        quote = await price_for(session, buyer_org_id=principal.org_id, material_id=material.id,
                                quantity=line.quantity, unit=line.unit, on_date=utcnow().date(),
                                supplier_org_id=uuid.UUID(form.get("supplier_org_id", "")))
    except (ValidationError, TradeloomError, ValueError) as exc:
        problem = form_errors(exc)[0] if isinstance(exc, ValidationError | TradeloomError) else str(exc)
        return render(request, "orders/price.html", {"quote": None, "problem": problem}, principal=principal)
    return render(request, "orders/price.html", {"quote": quote, "name": material.name_zh if request_locale(
        request, "zh_CN") == "zh_CN" else material.name_en}, principal=principal)


@router.post("/orders/cart")
async def place_cart(request: Request, principal: Member, tx: Tx) -> Response:
    """Place the cart as an order and submit it (approvers see it next, or the supplier if none is needed)."""
    principal.require(Permission.ORDER_CREATE)
    form, session = await form_fields(request), await tx.session()
    try:
        lines = _cart_lines(form)
        order = await create.create_order_from_cart(
            session, actor=principal.actor, supplier_org_id=uuid.UUID(form.get("supplier_org_id", "")),
            delivery_site_id=uuid.UUID(form.get("delivery_site_id", "")), lines=lines,
            terms=OrderTerms(payment_terms=form.get("payment_terms", "")[:200]), submit=True)
    except (ValidationError, TradeloomError, ValueError) as exc:
        await tx.abandon()
        errors = form_errors(exc) if isinstance(exc, ValidationError | TradeloomError) else [str(exc)]
        return await _cart_page(request, principal, await tx.session(), form, errors, status_code=422)
    return RedirectResponse(f"/orders/{order.id}", status_code=303)


@router.get("/orders/{order_id}")
async def order_page(request: Request, principal: Member, tx: Tx, order_id: uuid.UUID) -> Response:
    return await detail_page(request, principal, await tx.session(), order_id, [])


async def _run_step(session: AsyncSession, principal: Principal, order_id: uuid.UUID, action: str,
                    form: dict[str, str]) -> None:
    kwargs: dict[str, Any] = {"actor": principal.actor, "order_id": order_id,
                              "expected_version": int(form.get("version", "0")), "note": form.get("note") or None}
    if action == "confirm":
        principal.require(Permission.ORDER_CONFIRM)
        await transitions.confirm_order(session, lines=_confirmations(form), **kwargs)
        return
    step = CANCEL if action == "cancel" else STEPS.get(action)
    if step is None:
        raise Invalid(f"'{action}' is not an order step.", code="order_step_unknown")
    principal.require(step.permission)
    named = {"submit": transitions.submit_order, "approve": transitions.approve_order,
             "reject-approval": transitions.reject_approval, "reject": transitions.reject_order,
             "cancel": transitions.cancel_order}
    if action in named:
        await named[action](session, **kwargs)
    else:
        await transitions.advance_order(session, action=SimpleStep(action), **kwargs)


def _confirmations(form: dict[str, str]) -> list[LineConfirmationDraft]:
    """Lines whose confirmed quantity or date the supplier changed on the form."""
    drafts = []
    for key, value in form.items():
        if not key.startswith("qty_"):
            continue
        line_id = uuid.UUID(key.removeprefix("qty_"))
        try:
            quantity = Decimal(value)
        except InvalidOperation as exc:
            raise Invalid(f"{value!r} is not a quantity.", code="order_confirmation_invalid") from exc
        ordered, requested = Decimal(form.get(f"ordered_{line_id}", value)), form.get(f"requested_{line_id}", "")
        date = form.get(f"date_{line_id}", "")
        if quantity != ordered or date != requested:
            drafts.append(LineConfirmationDraft(line_id, quantity, _date(date)))
    return drafts


@router.post("/orders/{order_id}/act/{action}")
async def order_step(request: Request, principal: Member, tx: Tx, order_id: uuid.UUID, action: str) -> Response:
    form = await form_fields(request)
    try:
        await _run_step(await tx.session(), principal, order_id, action, form)
    except (TradeloomError, ValueError, InvalidOperation) as exc:
        await tx.abandon()
        errors = form_errors(exc) if isinstance(exc, TradeloomError) else [str(exc)]
        return await detail_page(request, principal, await tx.session(), order_id, errors, status_code=409)
    return RedirectResponse(f"/orders/{order_id}", status_code=303)


def install(app: FastAPI) -> None:
    """Register the order pages, their templates and navigation items."""
    add_template_dir(Path(__file__).resolve().parent / "templates")
    app.include_router(change_pages.router)  # first: ``/orders/changes`` must win over ``/orders/{order_id}``
    app.include_router(router)
    buyers = frozenset({OrgKind.BUYER, OrgKind.BOTH, OrgKind.PLATFORM_OPERATOR})
    for item in (
        NavItem("/orders/cart", N_("Cart"), Permission.ORDER_CREATE, org_kinds=buyers, order=20),
        NavItem("/orders", N_("Orders"), order=21),
        NavItem("/orders/approvals", N_("Approvals"), Permission.ORDER_APPROVE, order=22),
        NavItem("/orders/inbox", N_("Order inbox"), Permission.ORDER_CONFIRM, order=23),
        NavItem("/orders/changes", N_("Change requests"), CHANGE_PERMISSIONS, order=24),
    ):
        add_nav_item(item)
