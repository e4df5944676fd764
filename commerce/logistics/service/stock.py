"""Stock movements and the levels derived from them.

Every change of stock is a row of the append-only ``stock_movements`` log plus, in the same transaction, the
matching change of two derived levels: ``stock_levels`` (per location, batch, serial) and ``stock_balances``
(per warehouse and material, with what is reserved). Outgoing stock is taken by conditional UPDATEs
(``… WHERE quantity >= :q``), so two concurrent issues can never take the same units: the second finds too
little and is refused. ``check_levels`` recomputes the levels from the log to prove they agree.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Material
from catalog.service.materials import get_material, pack_sizes_of
from catalog.units import convert
from commerce.logistics.errors import StockShort, WarehouseNotFound
from commerce.logistics.models import StockBalance, StockLevel, StockMovement, Warehouse, WarehouseLocation
from commerce.logistics.rules import MovementKind, checked_quantity
from tradeloom.audit import Actor, record_audit
from tradeloom.db import utcnow
from tradeloom.errors import Invalid


@dataclass(frozen=True)
class StockPlace:
    """Where a quantity lies: a location of a warehouse, a batch and (for serial-tracked goods) a serial."""

    warehouse_id: uuid.UUID
    location_id: uuid.UUID
    batch: str = ""
    serial: str = ""


@dataclass(frozen=True)
class StockLine:
    """A quantity of a material in its base unit at a place."""

    material_id: uuid.UUID
    place: StockPlace
    quantity: Decimal


async def location_of(session: AsyncSession, *, location_id: uuid.UUID) -> WarehouseLocation:
    """One of the caller's locations (another organization's is not found)."""
    location = await session.get(WarehouseLocation, location_id)
    if location is None:
        raise WarehouseNotFound("No such warehouse location.", code="location_not_found")
    return location


async def warehouse_of(session: AsyncSession, *, warehouse_id: uuid.UUID) -> Warehouse:
    warehouse = await session.get(Warehouse, warehouse_id)
    if warehouse is None:
        raise WarehouseNotFound("No such warehouse.")
    return warehouse


async def place_at(session: AsyncSession, *, location_id: uuid.UUID, batch: str = "", serial: str = "") -> StockPlace:
    location = await location_of(session, location_id=location_id)
    return StockPlace(location.warehouse_id, location.id, batch, serial)


async def _log(session: AsyncSession, *, actor: Actor, kind: MovementKind, line: StockLine, signed: Decimal,
               unit: str, reason: str | None, reference: str | None) -> None:
    await session.execute(insert(StockMovement).values(
        org_id=actor.org_id, at=utcnow(), kind=kind.value, warehouse_id=line.place.warehouse_id,
        location_id=line.place.location_id, material_id=line.material_id, batch=line.place.batch,
        serial=line.place.serial, quantity=signed, unit=unit, reason=reason, reference=reference,
        actor_user_id=actor.user_id,
    ))


async def add_stock(session: AsyncSession, *, actor: Actor, kind: MovementKind, line: StockLine, unit: str,
                    reason: str | None = None, reference: str | None = None) -> None:
    """Stock comes in: log it, raise the location level and the warehouse balance."""
    place, now = line.place, utcnow()
    await _log(session, actor=actor, kind=kind, line=line, signed=line.quantity, unit=unit, reason=reason,
               reference=reference)
    level = pg_insert(StockLevel).values(
        org_id=actor.org_id, location_id=place.location_id, material_id=line.material_id, batch=place.batch,
        serial=place.serial, warehouse_id=place.warehouse_id, quantity=line.quantity, unit=unit)
    await session.execute(level.on_conflict_do_update(
        index_elements=[StockLevel.location_id, StockLevel.material_id, StockLevel.batch, StockLevel.serial],
        set_={"quantity": StockLevel.quantity + level.excluded.quantity}))
    balance = pg_insert(StockBalance).values(
        org_id=actor.org_id, warehouse_id=place.warehouse_id, material_id=line.material_id, on_hand=line.quantity,
        reserved=Decimal(0), unit=unit, updated_at=now)
    await session.execute(balance.on_conflict_do_update(
        index_elements=[StockBalance.warehouse_id, StockBalance.material_id],
        set_={"on_hand": StockBalance.on_hand + balance.excluded.on_hand, "updated_at": now}))


async def take_stock(session: AsyncSession, *, actor: Actor, kind: MovementKind, line: StockLine, unit: str,
                     reason: str | None = None, reference: str | None = None,
                     release_reserved: Decimal = Decimal(0)) -> None:
    """Stock goes out: only if the location holds it and the warehouse has it free (after giving back
    ``release_reserved``, the part of a reservation this issue consumes); else ``StockShort``, nothing changed."""
    place, quantity = line.place, line.quantity
    taken = await session.scalar(
        update(StockLevel)
        .where(StockLevel.location_id == place.location_id, StockLevel.material_id == line.material_id,
               StockLevel.batch == place.batch, StockLevel.serial == place.serial, StockLevel.quantity >= quantity)
        .values(quantity=StockLevel.quantity - quantity)
        .returning(StockLevel.quantity)
    )
    freed = await session.scalar(
        update(StockBalance)
        .where(StockBalance.warehouse_id == place.warehouse_id, StockBalance.material_id == line.material_id,
               StockBalance.reserved >= release_reserved,
               StockBalance.on_hand - quantity >= StockBalance.reserved - release_reserved)
        .values(on_hand=StockBalance.on_hand - quantity, reserved=StockBalance.reserved - release_reserved,
                updated_at=utcnow())
        .returning(StockBalance.on_hand)
    ) if taken is not None else None
    if freed is None:
        what = f"batch {place.batch} " if place.batch else ""
        what += f"serial {place.serial} " if place.serial else ""
        raise StockShort(f"Not enough free stock {what}at this location for {quantity} {unit}.",
                         errors=[{"material_id": str(line.material_id), "quantity": str(quantity)}])
    await _log(session, actor=actor, kind=kind, line=line, signed=-quantity, unit=unit, reason=reason,
               reference=reference)


async def _base_unit(session: AsyncSession, material_id: uuid.UUID) -> str:
    return (await get_material(session, material_id=material_id)).base_unit


def in_base_unit(material: Material, quantity: Decimal, unit: str) -> Decimal:
    """An order unit's quantity (e.g. boxes) in the material's base unit, which stock is kept in."""
    if unit == material.base_unit:
        return quantity
    return convert(quantity, unit, material.base_unit, pack_sizes=pack_sizes_of(material))


def stock_lines(material: Material, place: StockPlace, quantity: Decimal, unit: str,
                serials: Sequence[str] = ()) -> list[StockLine]:
    """A quantity in an order unit as stock lines in the material's base unit: serial-tracked goods one line per
    serial (each serial is one piece of the order unit), other goods one line for the batch."""
    if serials:
        piece = in_base_unit(material, Decimal(1), unit)
        return [StockLine(material.id, replace(place, serial=serial), piece) for serial in serials]
    return [StockLine(material.id, place, in_base_unit(material, quantity, unit))] if quantity else []


async def receive_stock(session: AsyncSession, *, actor: Actor, material_id: uuid.UUID, location_id: uuid.UUID,
                        quantity: Decimal, batch: str = "", serial: str = "", reason: str | None = None,
                        reference: str | None = None) -> None:
    """Put stock on the shelf (from production or a purchase): a receipt movement in the material's base unit."""
    unit = await _base_unit(session, material_id)
    checked_quantity(quantity, unit, pointer="/quantity")
    if serial and quantity != 1:
        raise Invalid("A serial number names one piece: its quantity is 1.", code="serial_quantity_not_one",
                      errors=[{"pointer": "/quantity", "detail": "must be 1 with a serial"}])
    place = await place_at(session, location_id=location_id, batch=batch, serial=serial)
    await add_stock(session, actor=actor, kind=MovementKind.RECEIPT, line=StockLine(material_id, place, quantity),
                    unit=unit, reason=reason, reference=reference)
    await _audit(session, actor, "stock.received", material_id, place, quantity)


async def issue_stock(session: AsyncSession, *, actor: Actor, material_id: uuid.UUID, location_id: uuid.UUID,
                      quantity: Decimal, batch: str = "", serial: str = "", reason: str) -> None:
    """Take free stock off the shelf for use outside an order (scrap, internal use); reserved stock stays."""
    unit = await _base_unit(session, material_id)
    checked_quantity(quantity, unit, pointer="/quantity")
    place = await place_at(session, location_id=location_id, batch=batch, serial=serial)
    await take_stock(session, actor=actor, kind=MovementKind.ISSUE, line=StockLine(material_id, place, quantity),
                     unit=unit, reason=reason)
    await _audit(session, actor, "stock.issued", material_id, place, quantity)


async def transfer_stock(session: AsyncSession, *, actor: Actor, material_id: uuid.UUID, from_location_id: uuid.UUID,
                         to_location_id: uuid.UUID, quantity: Decimal, batch: str = "", serial: str = "") -> None:
    """Move stock between two of the caller's locations (the same or another warehouse): two log rows."""
    if from_location_id == to_location_id:
        raise Invalid("A transfer goes from one location to another.", code="transfer_same_location")
    unit = await _base_unit(session, material_id)
    checked_quantity(quantity, unit, pointer="/quantity")
    source = await place_at(session, location_id=from_location_id, batch=batch, serial=serial)
    target = await place_at(session, location_id=to_location_id, batch=batch, serial=serial)
    reference = f"transfer:{uuid.uuid4()}"
    await take_stock(session, actor=actor, kind=MovementKind.TRANSFER_OUT,
                     line=StockLine(material_id, source, quantity), unit=unit, reference=reference)
    await add_stock(session, actor=actor, kind=MovementKind.TRANSFER_IN, line=StockLine(material_id, target, quantity),
                    unit=unit, reference=reference)
    await _audit(session, actor, "stock.transferred", material_id, target, quantity)


async def adjust_stock(session: AsyncSession, *, actor: Actor, material_id: uuid.UUID, location_id: uuid.UUID,
                       counted: Decimal, reason: str, batch: str = "", serial: str = "") -> Decimal:
    """Set a level to what a count found; the difference is logged as an adjustment with its reason."""
    unit = await _base_unit(session, material_id)
    checked_quantity(counted, unit, pointer="/counted", allow_zero=True)
    place = await place_at(session, location_id=location_id, batch=batch, serial=serial)
    current = await session.scalar(select(StockLevel.quantity).where(
        StockLevel.location_id == location_id, StockLevel.material_id == material_id, StockLevel.batch == batch,
        StockLevel.serial == serial)) or Decimal(0)
    difference = counted - current
    line = StockLine(material_id, place, abs(difference))
    if difference > 0:
        await add_stock(session, actor=actor, kind=MovementKind.ADJUSTMENT, line=line, unit=unit, reason=reason)
    elif difference < 0:
        await take_stock(session, actor=actor, kind=MovementKind.ADJUSTMENT, line=line, unit=unit, reason=reason)
    await _audit(session, actor, "stock.adjusted", material_id, place, difference, reason=reason)
    return difference


async def _audit(session: AsyncSession, actor: Actor, action: str, material_id: uuid.UUID, place: StockPlace,
                 quantity: Decimal, reason: str | None = None) -> None:
    await record_audit(session, actor=actor, action=action, object_type="material", object_id=material_id,
                       details={"location_id": str(place.location_id), "batch": place.batch, "serial": place.serial,
                                "quantity": str(quantity)} | ({"reason": reason} if reason else {}))


@dataclass(frozen=True)
class LevelMismatch:
    location_id: uuid.UUID
    material_id: uuid.UUID
    batch: str
    serial: str
    level: Decimal
    logged: Decimal


async def check_levels(session: AsyncSession) -> list[LevelMismatch]:
    """Levels that differ from the sum of their movements (empty when the log and the levels agree)."""
    key = (StockMovement.location_id, StockMovement.material_id, StockMovement.batch, StockMovement.serial)
    logged = select(*key, func.sum(StockMovement.quantity).label("total")).group_by(*key).subquery()
    query = (
        select(logged.c.location_id, logged.c.material_id, logged.c.batch, logged.c.serial,
               func.coalesce(StockLevel.quantity, 0), logged.c.total)
        .outerjoin(StockLevel, (StockLevel.location_id == logged.c.location_id)
                   & (StockLevel.material_id == logged.c.material_id) & (StockLevel.batch == logged.c.batch)
                   & (StockLevel.serial == logged.c.serial))
        .where(func.coalesce(StockLevel.quantity, 0) != logged.c.total)
    )
    return [LevelMismatch(location_id=row[0], material_id=row[1], batch=row[2], serial=row[3], level=row[4],
                          logged=row[5]) for row in (await session.execute(query)).all()]


async def stock_levels(session: AsyncSession, *, warehouse_id: uuid.UUID | None = None,
                       material_ids: Sequence[uuid.UUID] = ()) -> list[StockLevel]:
    """The caller's non-empty levels, by warehouse, location, material, batch and serial."""
    query = select(StockLevel).where(StockLevel.quantity > 0).order_by(
        StockLevel.warehouse_id, StockLevel.location_id, StockLevel.material_id, StockLevel.batch, StockLevel.serial)
    if warehouse_id:
        query = query.where(StockLevel.warehouse_id == warehouse_id)
    if material_ids:
        query = query.where(StockLevel.material_id.in_(material_ids))
    return list((await session.scalars(query)).all())


async def stock_balances(session: AsyncSession, *, warehouse_id: uuid.UUID | None = None) -> list[StockBalance]:
    """The caller's balances per warehouse and material (on hand, reserved; available is the difference)."""
    query = select(StockBalance).order_by(StockBalance.warehouse_id, StockBalance.material_id)
    if warehouse_id:
        query = query.where(StockBalance.warehouse_id == warehouse_id)
    return list((await session.scalars(query)).all())
