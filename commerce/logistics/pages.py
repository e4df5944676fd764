"""Logistics pages: warehouse stock, shipments (create from open order lines, print papers and labels,
dispatch, tracking), goods receipt with a QR scanner. They call the same services as the API; a refusal is
shown on the page (``run_form_action``), never a 500."""

import uuid
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.service.materials import materials_by_id
from commerce.logistics.api.stock import traceability_of
from commerce.logistics.rules import TrackingState
from commerce.logistics.service import (
    dispatch,
    freight,
    queries,
    receiving,
    returns,
    shipments,
    stock,
    tracking,
    warehouses,
)
from commerce.logistics.service.receiving import ReceiptDraft, ReceiptLineDraft
from commerce.logistics.service.shipments import ItemDraft, LineDraft, ShipmentDraft
from commerce.orders.page_views import org_names
from commerce.orders.rules import OrderStatus
from commerce.orders.service.queries import OrderFilter, get_order, list_orders
from tradeloom.auth import Principal
from tradeloom.db import utcnow
from tradeloom.errors import Invalid, TradeloomError
from tradeloom.identity.roles import Permission
from tradeloom.transaction import TransactionalRoute, Tx
from tradeloom.web.forms import form_errors, form_version, run_form_action
from tradeloom.web.labels import N_
from tradeloom.web.navigation import NavItem, add_nav_item
from tradeloom.web.pages import Member
from tradeloom.web.templating import add_template_dir, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
STATE_LABELS = {
    "pending": N_("Pending"), "picked_up": N_("Picked up"), "in_transit": N_("In transit"),
    "out_for_delivery": N_("Out for delivery"), "delivered": N_("Delivered"), "exception": N_("Exception"),
    "draft": N_("Draft"), "dispatched": N_("Dispatched"), "received": N_("Received"), "cancelled": N_("Cancelled"),
}
RETURN_LABELS = {"requested": N_("Requested"), "approved": N_("Approved"), "refused": N_("Refused"),
                 "shipped": N_("Shipped back"), "received": N_("Received")}
# The step each party takes next on a return in a status: (status, party) -> actions.
RETURN_NEXT = {("requested", "supplier"): ("approve", "refuse"), ("approved", "buyer"): ("ship",),
               ("shipped", "supplier"): ("receive",)}


@router.get("/logistics/stock")
async def stock_page(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.STOCK_MANAGE)
    session = await tx.session()
    balances = await stock.stock_balances(session)
    levels = await stock.stock_levels(session)
    materials = await materials_by_id(session, material_ids={b.material_id for b in balances})
    return render(request, "logistics/stock.html", {
        "warehouses": await warehouses.list_warehouses(session), "balances": balances, "levels": levels,
        "materials": materials, "title": N_("Warehouse stock"), "chart": {
            "labels": [materials[b.material_id].code for b in balances],
            "available": [float(b.on_hand - b.reserved) for b in balances],  # chart bar lengths only
            "reserved": [float(b.reserved) for b in balances]},
    }, principal=principal)


async def _shippable_orders(session: AsyncSession, principal: Principal) -> list[Any]:
    if not principal.can(Permission.SHIPMENT_MANAGE):
        return []
    found = []
    for status in (OrderStatus.CONFIRMED, OrderStatus.IN_PRODUCTION, OrderStatus.PARTIALLY_SHIPPED):
        orders, _ = await list_orders(session, filters=OrderFilter(status=status, supplier_org_id=principal.org_id),
                                      limit=50, cursor=None)
        found += orders
    return found


@router.get("/logistics/shipments")
async def shipment_list(request: Request, principal: Member, tx: Tx, role: str = "") -> Response:
    session = await tx.session()
    return render(request, "logistics/list.html", {
        "shipments": await queries.list_shipments(session, org_id=principal.org_id, role=role or None),
        "to_ship": await _shippable_orders(session, principal), "names": await org_names(request, session),
        "labels": STATE_LABELS, "role": role, "title": N_("Shipments"),
    }, principal=principal)


async def _new_page(request: Request, principal: Principal, session: AsyncSession, order_id: uuid.UUID,
                    errors: list[str], status_code: int = 200) -> Response:
    order = await get_order(session, order_id=order_id)
    return render(request, "logistics/new.html", {
        "order": order, "lines": await shipments.open_lines(session, order_id=order.id),
        "warehouses": await warehouses.list_warehouses(session), "errors": errors,
    }, principal=principal, status_code=status_code)


@router.get("/logistics/shipments/new")
async def new_shipment_page(request: Request, principal: Member, tx: Tx, order_id: uuid.UUID) -> Response:
    principal.require(Permission.SHIPMENT_MANAGE)
    return await _new_page(request, principal, await tx.session(), order_id, [])


def _decimal(text: object, field: str) -> Decimal:
    try:
        return Decimal(str(text or "0").strip())
    except InvalidOperation as exc:
        raise Invalid(f"{field}: {text!r} is not a number.", code="quantity_invalid") from exc


def _shipment_draft(order_id: uuid.UUID, form: Any) -> ShipmentDraft:
    """One package; each line with a quantity is picked from the chosen location and batch."""
    location = uuid.UUID(str(form.get("location_id", "")))
    lines = []
    for key in form:
        if not key.startswith("qty_") or not str(form[key]).strip():
            continue
        line_id, quantity = uuid.UUID(key.removeprefix("qty_")), _decimal(form[key], "quantity")
        if quantity:
            lines.append(LineDraft(line_id, quantity, [ItemDraft(location, quantity, str(form.get(
                f"batch_{line_id}", "")).strip()[:20], package="P01")]))
    return ShipmentDraft(order_id=order_id, warehouse_id=uuid.UUID(str(form.get("warehouse_id", ""))), lines=lines,
                         packages=[shipments.PackageDraft("P01", gross_weight_kg=None)],
                         carrier_code=str(form.get("carrier_code", "")).strip() or None,
                         tracking_number=str(form.get("tracking_number", "")).strip()[:64] or None)


@router.post("/logistics/shipments/new")
async def create_shipment(request: Request, principal: Member, tx: Tx, order_id: uuid.UUID) -> Response:
    principal.require(Permission.SHIPMENT_MANAGE)
    created: list[uuid.UUID] = []

    async def act(session: AsyncSession, form: Any) -> None:
        try:
            draft = _shipment_draft(order_id, form)
        except ValueError as exc:
            raise Invalid("Choose the warehouse and location to pick from.", code="shipment_form_invalid") from exc
        shipment = await shipments.create_shipment(session, actor=principal.actor, draft=draft,
                                                   where=traceability_of(request))
        created.append(shipment.id)

    async def again(session: AsyncSession, errors: list[str], status: int) -> Response:
        return await _new_page(request, principal, session, order_id, errors, status)

    answer = await run_form_action(request, tx, act, done_url="/logistics/shipments", show_again=again)
    return RedirectResponse(f"/logistics/shipments/{created[0]}", status_code=303) if created else answer


async def _detail_page(request: Request, principal: Principal, session: AsyncSession, shipment_id: uuid.UUID,
                       errors: list[str], status_code: int = 200) -> Response:
    view = await queries.shipment_view(session, shipment_id=shipment_id)
    shipment = view.shipment
    is_buyer, is_supplier = shipment.buyer_org_id == principal.org_id, shipment.supplier_org_id == principal.org_id
    return render(request, "logistics/detail.html", {
        "view": view, "shipment": shipment, "names": await org_names(request, session), "labels": STATE_LABELS,
        "errors": errors, "states": [state.value for state in TrackingState],
        "can_dispatch": is_supplier and shipment.status == "draft" and principal.can(Permission.SHIPMENT_MANAGE),
        "can_track": (is_supplier or shipment.carrier_org_id == principal.org_id) and shipment.status != "draft",
        "can_receive": is_buyer and shipment.status in ("dispatched", "delivered")
        and principal.can(Permission.GOODS_RECEIPT),
        "can_return": is_buyer and shipment.status == "received" and principal.can(Permission.GOODS_RECEIPT),
        "is_supplier": is_supplier,
        "warehouses": await warehouses.list_warehouses(session) if is_buyer else [],
        "batches": await receiving.shipped_batches(session, shipment_id=shipment.id) if is_buyer else [],
    }, principal=principal, status_code=status_code)


@router.get("/logistics/shipments/{shipment_id}")
async def shipment_page(request: Request, principal: Member, tx: Tx, shipment_id: uuid.UUID) -> Response:
    return await _detail_page(request, principal, await tx.session(), shipment_id, [])


def _serials(text: object) -> list[str]:
    """Serial numbers typed into a field, separated by commas, semicolons or white space."""
    return [serial[:20] for serial in str(text or "").replace(",", " ").replace(";", " ").split()][:1000]


def _receipt_draft(shipment_id: uuid.UUID, form: Any) -> ReceiptDraft:
    lines = [ReceiptLineDraft(uuid.UUID(key.removeprefix("accepted_").split("|")[0]),
                              _decimal(form[key], "accepted"),
                              _decimal(form.get(key.replace("accepted_", "rejected_")), "rejected"),
                              key.split("|", 1)[1],
                              rejected_serials=_serials(form.get(key.replace("accepted_", "rejected_serials_"))))
             for key in form if key.startswith("accepted_")]
    return ReceiptDraft(shipment_id=shipment_id, location_id=uuid.UUID(str(form.get("location_id", ""))),
                        inspection=str(form.get("inspection", "passed")), notes=str(form.get("notes", ""))[:2000]
                        or None, lines=lines)


@router.post("/logistics/shipments/{shipment_id}/act/{action}")
async def shipment_action(request: Request, principal: Member, tx: Tx, shipment_id: uuid.UUID,
                          action: str) -> Response:
    where = traceability_of(request)

    async def act(session: AsyncSession, form: Any) -> None:
        if action == "dispatch":
            principal.require(Permission.SHIPMENT_MANAGE)
            await dispatch.dispatch_shipment(session, actor=principal.actor, shipment_id=shipment_id, where=where,
                                             expected_version=form_version(form.get("version")))
        elif action == "track":
            await tracking.record_manual_tracking(
                session, actor=principal.actor, shipment_id=shipment_id, where=where,
                update=tracking.TrackingUpdate(state=TrackingState(str(form.get("state"))), at=utcnow(),
                                               location=str(form.get("location", ""))[:200] or None))
        elif action == "receive":
            principal.require(Permission.GOODS_RECEIPT)
            try:
                draft = _receipt_draft(shipment_id, form)
            except ValueError as exc:
                raise Invalid("Choose where the goods are put away.", code="receipt_form_invalid") from exc
            await receiving.receive_shipment(session, actor=principal.actor, draft=draft, where=where)
        else:
            raise Invalid(f"'{action}' is not a shipment step.", code="shipment_step_unknown")

    async def again(session: AsyncSession, errors: list[str], status: int) -> Response:
        return await _detail_page(request, principal, session, shipment_id, errors, status)

    try:
        return await run_form_action(request, tx, act, done_url=f"/logistics/shipments/{shipment_id}",
                                     show_again=again)
    except ValueError as exc:  # an unknown tracking state typed into the form
        await tx.abandon()
        return await again(await tx.session(), [str(exc)], 422)


@router.get("/logistics/receive")
async def scan_page(request: Request, principal: Member, tx: Tx, code: str = "") -> Response:
    """Scan a label with the phone camera (BarcodeDetector) or type the identifier: go to its shipment."""
    principal.require(Permission.GOODS_RECEIPT)
    errors: list[str] = []
    if code.strip():
        try:
            shipment = await queries.shipment_by_label(await tx.session(), scanned=code[:500])
            return RedirectResponse(f"/logistics/shipments/{shipment.id}#receive", status_code=303)
        except TradeloomError as exc:
            errors = form_errors(exc)
    return render(request, "logistics/scan.html", {"code": code, "errors": errors}, principal=principal,
                  status_code=404 if errors else 200)


@router.get("/logistics/returns")
async def returns_page(request: Request, principal: Member, tx: Tx) -> Response:
    """Returns the organization asked for (buyer) or is asked to take back (supplier), with their next step."""
    return await _returns_page(request, principal, await tx.session(), [])


async def _returns_page(request: Request, principal: Principal, session: AsyncSession, errors: list[str],
                        status_code: int = 200) -> Response:
    return render(request, "logistics/returns.html", {
        "returns": await returns.list_returns(session), "names": await org_names(request, session),
        "errors": errors, "title": N_("Returns"), "labels": RETURN_LABELS, "next_steps": RETURN_NEXT,
    }, principal=principal, status_code=status_code)


async def _new_return_page(request: Request, principal: Principal, session: AsyncSession, shipment_id: uuid.UUID,
                           errors: list[str], status_code: int = 200) -> Response:
    receipt = await receiving.receipt_of_shipment(session, shipment_id=shipment_id)
    return render(request, "logistics/return_new.html", {
        "receipt": receipt, "lines": await returns.returnable_lines(session, receipt_id=receipt.id),
        "errors": errors, "title": N_("Request a return"), "shipment_id": shipment_id,
    }, principal=principal, status_code=status_code)


@router.get("/logistics/returns/new")
async def new_return_page(request: Request, principal: Member, tx: Tx, shipment_id: uuid.UUID) -> Response:
    """The buyer picks what of a received shipment goes back (within what was accepted), and why."""
    principal.require(Permission.GOODS_RECEIPT)
    return await _new_return_page(request, principal, await tx.session(), shipment_id, [])


def _return_lines(form: Any) -> list[returns.ReturnLineDraft]:
    """Each receipt line given a quantity (and, for serial-tracked goods, the serials) on the form."""
    drafts = []
    for key in form:
        if key.startswith("qty_") and str(form[key]).strip() not in ("", "0"):
            line_id = key.removeprefix("qty_")
            drafts.append(returns.ReturnLineDraft(uuid.UUID(line_id), _decimal(form[key], "quantity"),
                                                  _serials(form.get(f"serials_{line_id}"))))
    return drafts


@router.post("/logistics/returns/new")
async def create_return(request: Request, principal: Member, tx: Tx, shipment_id: uuid.UUID) -> Response:
    async def act(session: AsyncSession, form: Any) -> None:
        principal.require(Permission.GOODS_RECEIPT)
        receipt = await receiving.receipt_of_shipment(session, shipment_id=shipment_id)
        reason = str(form.get("reason", "")).strip()[:1000]
        if len(reason) < 3:
            raise Invalid("Say why the goods go back.", code="return_reason_missing")
        try:
            lines = _return_lines(form)
        except ValueError as exc:
            raise Invalid("Not a line of this receipt.", code="return_line_unknown") from exc
        await returns.request_return(session, actor=principal.actor, receipt_id=receipt.id, reason=reason,
                                     lines=lines)

    async def again(session: AsyncSession, errors: list[str], status: int) -> Response:
        return await _new_return_page(request, principal, session, shipment_id, errors, status)

    return await run_form_action(request, tx, act, done_url="/logistics/returns", show_again=again)


@router.post("/logistics/returns/{return_id}/{action}")
async def return_action(request: Request, principal: Member, tx: Tx, return_id: uuid.UUID, action: str) -> Response:
    async def act(session: AsyncSession, form: Any) -> None:
        principal.require(Permission.GOODS_RECEIPT if action == "ship" else Permission.SHIPMENT_MANAGE)
        await returns.advance_return(session, actor=principal.actor, return_id=return_id, action=action,
                                     expected_version=form_version(form.get("version")),
                                     tracking_number=str(form.get("tracking_number", ""))[:64] or None)

    async def again(session: AsyncSession, errors: list[str], status: int) -> Response:
        return await _returns_page(request, principal, session, errors, status)

    return await run_form_action(request, tx, act, done_url="/logistics/returns", show_again=again)


@router.get("/logistics/freight")
async def freight_page(request: Request, principal: Member, tx: Tx) -> Response:
    """Freight quote requests: providers price theirs, shippers award one."""
    return await _freight_page(request, principal, await tx.session(), [])


async def _freight_page(request: Request, principal: Principal, session: AsyncSession, errors: list[str],
                        status_code: int = 200) -> Response:
    return render(request, "logistics/freight.html", {
        "quotes": await freight.list_quotes(session), "names": await org_names(request, session), "errors": errors,
        "title": N_("Freight quotes"),
    }, principal=principal, status_code=status_code)


@router.post("/logistics/freight/{quote_id}/{action}")
async def freight_action(request: Request, principal: Member, tx: Tx, quote_id: uuid.UUID, action: str) -> Response:
    async def act(session: AsyncSession, form: Any) -> None:
        version = form_version(form.get("version"))
        if action == "quote":
            await freight.submit_quote(session, actor=principal.actor, quote_id=quote_id, expected_version=version,
                                       price=_decimal(form.get("price"), "price"), currency="CNY",
                                       transit_days=int(_decimal(form.get("transit_days"), "transit days")))
        elif action == "award":
            principal.require(Permission.SHIPMENT_MANAGE)
            await freight.award_quote(session, actor=principal.actor, quote_id=quote_id, expected_version=version)
        else:
            raise Invalid(f"'{action}' is not a freight step.", code="freight_step_unknown")

    async def again(session: AsyncSession, errors: list[str], status: int) -> Response:
        return await _freight_page(request, principal, session, errors, status)

    return await run_form_action(request, tx, act, done_url="/logistics/freight", show_again=again)


def install(app: FastAPI) -> None:
    """Register the logistics pages, their templates and navigation items."""
    add_template_dir(Path(__file__).resolve().parent / "templates")
    app.include_router(router)
    for item in (
        NavItem("/logistics/shipments", N_("Shipments"), order=30),
        NavItem("/logistics/stock", N_("Warehouse stock"), Permission.STOCK_MANAGE, order=31),
        NavItem("/logistics/receive", N_("Receive goods"), Permission.GOODS_RECEIPT, order=32),
        NavItem("/logistics/returns", N_("Returns"), order=33),
        NavItem("/logistics/freight", N_("Freight quotes"), order=34),
    ):
        add_nav_item(item)
