"""Reservations: stock of the supplier's warehouse held for the lines of a confirmed order.

A reservation is one conditional UPDATE of the warehouse balance, ``reserved = reserved + q WHERE on_hand -
reserved >= q``: PostgreSQL re-checks the condition on the row's newest version after waiting for a concurrent
writer, so however many orders race for the last units, available stock never goes below zero and exactly
as many succeed as the stock allows. What cannot be held is recorded as a backorder on the reservation.
"""

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.service.materials import get_material
from commerce.logistics.models import StockBalance, StockReservation
from commerce.logistics.service.stock import in_base_unit, warehouse_of
from commerce.orders.models import OrderLine, PurchaseOrder
from commerce.orders.rules import OrderStatus, Party
from commerce.orders.service.common import check_party, load_order, order_lines
from tradeloom.audit import Actor, record_audit
from tradeloom.db import utcnow
from tradeloom.errors import Conflict
from tradeloom.outbox.service import emit

# How long stock stays held for an order that is not shipped (the housekeeping job expires older ones).
RESERVATION_LIFETIME = dt.timedelta(days=14)
RESERVABLE = frozenset({OrderStatus.CONFIRMED, OrderStatus.IN_PRODUCTION, OrderStatus.PARTIALLY_SHIPPED})


async def hold(session: AsyncSession, *, warehouse_id: uuid.UUID, material_id: uuid.UUID,
               quantity: Decimal) -> bool:
    """Reserve ``quantity`` if that much is free: one conditional UPDATE, true when it held."""
    held = await session.scalar(
        update(StockBalance)
        .where(StockBalance.warehouse_id == warehouse_id, StockBalance.material_id == material_id,
               StockBalance.on_hand - StockBalance.reserved >= quantity)
        .values(reserved=StockBalance.reserved + quantity, updated_at=utcnow())
        .returning(StockBalance.reserved)
    )
    return held is not None


async def _free(session: AsyncSession, *, warehouse_id: uuid.UUID, material_id: uuid.UUID) -> Decimal:
    balance = await session.scalar(select(StockBalance.on_hand - StockBalance.reserved).where(
        StockBalance.warehouse_id == warehouse_id, StockBalance.material_id == material_id))
    return balance if balance is not None and balance > 0 else Decimal(0)


async def _reserve_line(session: AsyncSession, *, actor: Actor, order: PurchaseOrder, line: OrderLine,
                        warehouse_id: uuid.UUID) -> StockReservation:
    """Hold the whole open quantity, else what is free (retrying once if another order took it meanwhile)."""
    material = await get_material(session, material_id=line.material_id)
    wanted = in_base_unit(material, open_quantity(line), line.unit)
    held = wanted if await hold(session, warehouse_id=warehouse_id, material_id=line.material_id,
                                quantity=wanted) else Decimal(0)
    if not held:
        free = await _free(session, warehouse_id=warehouse_id, material_id=line.material_id)
        if free and await hold(session, warehouse_id=warehouse_id, material_id=line.material_id, quantity=free):
            held = free
    reservation = StockReservation(
        org_id=actor.org_id, order_id=order.id, order_line_id=line.id, warehouse_id=warehouse_id,
        material_id=line.material_id, quantity=held, backordered=wanted - held, unit=material.base_unit,
        status="active", expires_at=utcnow() + RESERVATION_LIFETIME)
    session.add(reservation)
    return reservation


def open_quantity(line: OrderLine) -> Decimal:
    """What the supplier committed to deliver on a line: the confirmed quantity, else the ordered one."""
    return line.confirmed_quantity if line.confirmed_quantity is not None else line.quantity


async def reserve_order(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID,
                        warehouse_id: uuid.UUID) -> list[StockReservation]:
    """The supplier holds stock for every line of a confirmed order; what is short is backordered."""
    order = await load_order(session, order_id)
    check_party(order, actor, Party.SUPPLIER)
    if order.status not in RESERVABLE:
        raise Conflict(f"Order {order.number} is {order.status}; stock is reserved for confirmed orders.",
                       code="reservation_order_not_confirmed")
    await warehouse_of(session, warehouse_id=warehouse_id)
    existing = await active_reservations(session, order_id=order.id)
    if existing:
        raise Conflict(f"Stock is already reserved for order {order.number}.", code="reservation_exists")
    reservations = [await _reserve_line(session, actor=actor, order=order, line=line, warehouse_id=warehouse_id)
                    for line in await order_lines(session, order.id)]
    await session.flush()
    facts = {"order_id": str(order.id), "number": order.number, "lines": [
        {"order_line_id": str(r.order_line_id), "reserved": str(r.quantity), "backordered": str(r.backordered)}
        for r in reservations]}
    await emit(session, org_id=actor.org_id, topic="stock.reserved", payload=facts)
    await record_audit(session, actor=actor, action="stock.reserved", object_type="purchase_order",
                       object_id=order.id, details=facts)
    return reservations


async def active_reservations(session: AsyncSession, *, order_id: uuid.UUID) -> list[StockReservation]:
    query = select(StockReservation).where(StockReservation.order_id == order_id,
                                           StockReservation.status == "active")
    return list((await session.scalars(query)).all())


async def _give_back(session: AsyncSession, reservation: StockReservation, status: str) -> None:
    """Return what a reservation still holds to free stock and close it."""
    if reservation.quantity:
        await session.execute(
            update(StockBalance)
            .where(StockBalance.warehouse_id == reservation.warehouse_id,
                   StockBalance.material_id == reservation.material_id)
            .values(reserved=StockBalance.reserved - reservation.quantity, updated_at=utcnow()))
    reservation.status, reservation.closed_at = status, utcnow()


async def release_order(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID,
                        reason: str = "released") -> list[StockReservation]:
    """Give back the stock held for an order (cancelled, rejected or reduced); returns what was released."""
    reservations = await active_reservations(session, order_id=order_id)
    for reservation in reservations:
        await _give_back(session, reservation, "released")
    await session.flush()
    if reservations:
        await record_audit(session, actor=actor, action="stock.released", object_type="purchase_order",
                           object_id=order_id, details={"lines": len(reservations), "reason": reason})
    return reservations


async def consume(session: AsyncSession, *, order_line_id: uuid.UUID, quantity: Decimal) -> Decimal:
    """A shipment takes ``quantity`` (base unit) of a line: the part the line's reservation covers stops being held
    (the stock issue gives it back as it removes it). Returns that part."""
    reservation = await session.scalar(select(StockReservation).where(
        StockReservation.order_line_id == order_line_id, StockReservation.status == "active").with_for_update())
    if reservation is None:
        return Decimal(0)
    covered = min(quantity, reservation.quantity)
    reservation.quantity -= covered
    if reservation.quantity == 0 and reservation.backordered <= quantity - covered:
        reservation.status, reservation.closed_at = "consumed", utcnow()
    reservation.backordered = max(Decimal(0), reservation.backordered - (quantity - covered))
    return covered


async def expire_stale(session: AsyncSession, *, now: dt.datetime | None = None) -> int:
    """Give back reservations held past their expiry, of every supplier (a platform loop, run as the owner);
    each supplier gets a ``stock.reservations_expired`` event naming its lines."""
    query = (select(StockReservation)
             .where(StockReservation.status == "active", StockReservation.expires_at <= (now or utcnow()))
             .order_by(StockReservation.id).with_for_update(skip_locked=True))
    stale = list((await session.scalars(query)).all())
    by_supplier: dict[uuid.UUID, list[str]] = {}
    for reservation in stale:
        await _give_back(session, reservation, "expired")
        by_supplier.setdefault(reservation.org_id, []).append(str(reservation.order_line_id))
    await session.flush()
    for org_id, line_ids in by_supplier.items():
        await emit(session, org_id=org_id, topic="stock.reservations_expired", payload={"order_line_ids": line_ids})
    return len(stale)
