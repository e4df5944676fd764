"""Stock movements, derived levels and reservations through the services."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.models import StockBalance, StockMovement, StockReservation, WarehouseLocation
from commerce.logistics.service import reservations, stock
from tests.logistics_factories import confirmed_order, make_logistics_world, stock_up
from tests.materials_factories import act_as, owner_actor
from tradeloom.db import utcnow
from tradeloom.errors import TradeloomError


async def _balance(session: AsyncSession) -> tuple[Decimal, Decimal]:
    balance = (await session.scalars(select(StockBalance))).one()
    await session.refresh(balance)
    return balance.on_hand, balance.reserved


async def _refused(call: object) -> str:
    with pytest.raises(TradeloomError) as refused:
        await call  # type: ignore[misc]
    return refused.value.code


async def test_movements_keep_levels_equal_to_the_log(session: AsyncSession) -> None:
    # given 500 bolts at A-01 and a second location A-02
    world = await make_logistics_world(session)
    await stock_up(session, world)
    supplier, bolt = world.orders.supplier, world.orders.bolt.id
    second = WarehouseLocation(org_id=supplier.org.id, warehouse_id=world.supplier_store.warehouse_id, code="A-02")
    session.add(second)
    await session.flush()
    await act_as(session, supplier)
    actor, source = owner_actor(supplier), world.supplier_store.location_id
    # when 200 move to A-02, 5 are scrapped and a count of A-02 finds 198
    await stock.transfer_stock(session, actor=actor, material_id=bolt, from_location_id=source,
                               to_location_id=second.id, quantity=Decimal(200), batch="B-0001")
    await stock.issue_stock(session, actor=actor, material_id=bolt, location_id=source, quantity=Decimal(5),
                            batch="B-0001", reason="scrap: bent threads")
    difference = await stock.adjust_stock(session, actor=actor, material_id=bolt, location_id=second.id,
                                          counted=Decimal(198), batch="B-0001", reason="count 2026-11")
    # then the levels are 295 and 198, the balance 493, and the log agrees with both
    levels = {level.location_id: level.quantity for level in await stock.stock_levels(session)}
    assert (difference, levels) == (Decimal(-2), {source: Decimal(295), second.id: Decimal(198)})
    assert await _balance(session) == (Decimal(493), Decimal(0))
    assert await stock.check_levels(session) == []
    kinds = list(await session.scalars(select(StockMovement.kind).order_by(StockMovement.id)))
    assert kinds == ["receipt", "transfer_out", "transfer_in", "issue", "adjustment"]
    # and bad quantities are refused: fractions of pieces, negative, more than is there
    assert await _refused(stock.receive_stock(session, actor=actor, material_id=bolt, location_id=source,
                                              quantity=Decimal("1.5"))) == "quantity_invalid"
    assert await _refused(stock.issue_stock(session, actor=actor, material_id=bolt, location_id=source,
                                            quantity=Decimal(-1), reason="x")) == "quantity_invalid"
    assert await _refused(stock.issue_stock(session, actor=actor, material_id=bolt, location_id=source,
                                            quantity=Decimal(296), batch="B-0001", reason="x")) == "stock_insufficient"


async def test_reservations_backorder_expire_and_release(session: AsyncSession) -> None:
    # given 100 bolts and two confirmed orders of 300 each
    world = await make_logistics_world(session)
    await stock_up(session, world, quantity="100")
    first, second = await confirmed_order(session, world), await confirmed_order(session, world)
    supplier = world.orders.supplier
    await act_as(session, supplier)
    actor, warehouse = owner_actor(supplier), world.supplier_store.warehouse_id
    # when both are reserved
    (held,) = await reservations.reserve_order(session, actor=actor, order_id=first.id, warehouse_id=warehouse)
    (short,) = await reservations.reserve_order(session, actor=actor, order_id=second.id, warehouse_id=warehouse)
    # then the first holds the 100 (200 backordered), the second only backorders; free stock is gone
    assert [(r.quantity, r.backordered) for r in (held, short)] == [(Decimal(100), Decimal(200)),
                                                                      (Decimal(0), Decimal(300))]
    assert await _balance(session) == (Decimal(100), Decimal(100))
    assert await _refused(stock.issue_stock(session, actor=actor, material_id=world.orders.bolt.id,
                                            location_id=world.supplier_store.location_id, quantity=Decimal(1),
                                            batch="B-0001", reason="x")) == "stock_insufficient"
    assert await _refused(reservations.reserve_order(session, actor=actor, order_id=first.id,
                                                     warehouse_id=warehouse)) == "reservation_exists"
    # when the first is released and the second's reservation grows stale
    await reservations.release_order(session, actor=actor, order_id=first.id)
    expired = await reservations.expire_stale(session, now=utcnow() + dt.timedelta(days=15))
    # then everything is free again
    assert expired == 1
    assert await _balance(session) == (Decimal(100), Decimal(0))
    statuses = sorted(await session.scalars(select(StockReservation.status)))
    assert statuses == ["expired", "released"]
