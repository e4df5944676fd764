"""Warehouses, stock and reservations: the supplier's (or buyer's) own stock, under RLS."""

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request

from commerce.logistics.schemas import (
    LocationOut,
    ReservationOut,
    ReserveIn,
    StockAdjustmentIn,
    StockBalanceOut,
    StockIssueIn,
    StockLevelOut,
    StockOut,
    StockReceiptIn,
    StockTransferIn,
    WarehouseCreate,
    WarehouseOut,
)
from commerce.logistics.service import availability, reservations, stock, warehouses
from commerce.logistics.service.traceability import Traceability
from tradeloom.auth import Principal, requires
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix="/api/v1/logistics", tags=["logistics: stock"], route_class=TransactionalRoute)
StockKeeper = Annotated[Principal, Depends(requires(Permission.STOCK_MANAGE))]
Shipper = Annotated[Principal, Depends(requires(Permission.SHIPMENT_MANAGE))]


def traceability_of(request: Request) -> Traceability:
    """Where identifiers are registered: the platform's handle prefix and public address (settings)."""
    settings = request.app.state.settings
    return Traceability(prefix=settings.handle_prefix, base_url=settings.public_base_url)


def warehouse_out(view: warehouses.WarehouseView) -> WarehouseOut:
    return WarehouseOut.model_validate({
        **{name: getattr(view.warehouse, name) for name in ("id", "site_id", "code", "name_zh", "name_en")},
        "locations": [LocationOut.model_validate(location) for location in view.locations]})


@router.post("/warehouses", status_code=201)
async def create_warehouse(body: WarehouseCreate, principal: StockKeeper, session: DbSession,
                           _key: Idempotent) -> WarehouseOut:
    """Open a warehouse at one of your sites, with its locations."""
    view = await warehouses.create_warehouse(
        session, actor=principal.actor, site_id=body.site_id, code=body.code, name_zh=body.name_zh,
        name_en=body.name_en, locations=[(location.code, location.name) for location in body.locations])
    return warehouse_out(view)


@router.get("/warehouses")
async def list_warehouses(principal: StockKeeper, session: DbSession) -> list[WarehouseOut]:
    """Your warehouses with their locations."""
    return [warehouse_out(view) for view in await warehouses.list_warehouses(session)]


@router.get("/stock")
async def get_stock(principal: StockKeeper, session: DbSession,
                    warehouse_id: Annotated[uuid.UUID | None, Query()] = None) -> StockOut:
    """Balances (on hand, reserved) per warehouse and material, and levels per location, batch and serial."""
    balances = await stock.stock_balances(session, warehouse_id=warehouse_id)
    levels = await stock.stock_levels(session, warehouse_id=warehouse_id)
    return StockOut(balances=[StockBalanceOut.model_validate(b) for b in balances],
                    levels=[StockLevelOut.model_validate(level) for level in levels])


@router.post("/stock/receipts", status_code=204)
async def receive_stock(body: StockReceiptIn, principal: StockKeeper, session: DbSession, _key: Idempotent) -> None:
    """Put goods on a shelf (from production or a purchase outside the platform)."""
    await stock.receive_stock(session, actor=principal.actor, material_id=body.material_id,
                              location_id=body.location_id, quantity=body.quantity, batch=body.batch,
                              serial=body.serial, reason=body.reason)
    await availability.publish(session, actor=principal.actor, material_ids=[body.material_id])


@router.post("/stock/issues", status_code=204)
async def issue_stock(body: StockIssueIn, principal: StockKeeper, session: DbSession, _key: Idempotent) -> None:
    """Take free stock off a shelf (scrap, internal use); reserved stock cannot be issued."""
    await stock.issue_stock(session, actor=principal.actor, material_id=body.material_id,
                            location_id=body.location_id, quantity=body.quantity, batch=body.batch,
                            serial=body.serial, reason=body.reason)
    await availability.publish(session, actor=principal.actor, material_ids=[body.material_id])


@router.post("/stock/transfers", status_code=204)
async def transfer_stock(body: StockTransferIn, principal: StockKeeper, session: DbSession,
                         _key: Idempotent) -> None:
    """Move stock from one of your locations to another."""
    await stock.transfer_stock(session, actor=principal.actor, material_id=body.material_id,
                               from_location_id=body.from_location_id, to_location_id=body.to_location_id,
                               quantity=body.quantity, batch=body.batch, serial=body.serial)
    await availability.publish(session, actor=principal.actor, material_ids=[body.material_id])


@router.post("/stock/adjustments", status_code=204)
async def adjust_stock(body: StockAdjustmentIn, principal: StockKeeper, session: DbSession,
                       _key: Idempotent) -> None:
    """Correct a level to what a count found; the difference is logged with its reason."""
    await stock.adjust_stock(session, actor=principal.actor, material_id=body.material_id,
                             location_id=body.location_id, counted=body.counted, reason=body.reason,
                             batch=body.batch, serial=body.serial)
    await availability.publish(session, actor=principal.actor, material_ids=[body.material_id])


@router.post("/orders/{order_id}/reservations", status_code=201)
async def reserve_order(order_id: uuid.UUID, body: ReserveIn, principal: Shipper, session: DbSession,
                        _key: Idempotent) -> list[ReservationOut]:
    """Hold stock for a confirmed order's lines; what is short is backordered."""
    held = await reservations.reserve_order(session, actor=principal.actor, order_id=order_id,
                                            warehouse_id=body.warehouse_id)
    await availability.publish(session, actor=principal.actor, material_ids=[r.material_id for r in held])
    return [ReservationOut.model_validate(reservation) for reservation in held]


@router.post("/orders/{order_id}/reservations/release", status_code=204)
async def release_order(order_id: uuid.UUID, principal: Shipper, session: DbSession, _key: Idempotent) -> None:
    """Give back the stock held for an order (cancelled, rejected or reduced)."""
    released = await reservations.release_order(session, actor=principal.actor, order_id=order_id)
    await availability.publish(session, actor=principal.actor, material_ids=[r.material_id for r in released])
