"""Warehouses and their locations: the caller's own (RLS), each at one of its sites."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.models import Warehouse, WarehouseLocation
from tradeloom.audit import Actor, record_audit
from tradeloom.db import flush_or_conflict
from tradeloom.sites.service import get_site


@dataclass(frozen=True)
class WarehouseView:
    warehouse: Warehouse
    locations: list[WarehouseLocation]


async def create_warehouse(session: AsyncSession, *, actor: Actor, site_id: uuid.UUID, code: str, name_zh: str,
                           name_en: str, locations: Sequence[tuple[str, str]]) -> WarehouseView:
    """A warehouse at one of the caller's sites, with its locations (code, name)."""
    await get_site(session, site_id=site_id)  # another organization's site is not found
    warehouse = Warehouse(org_id=actor.org_id, site_id=site_id, code=code, name_zh=name_zh, name_en=name_en)
    session.add(warehouse)
    await flush_or_conflict(session, f"Warehouse {code} already exists.", "warehouse_code_taken")
    rows = [WarehouseLocation(org_id=actor.org_id, warehouse_id=warehouse.id, code=location_code, name=name)
            for location_code, name in locations]
    session.add_all(rows)
    await flush_or_conflict(session, "Each location of a warehouse needs its own code.", "location_code_taken")
    await record_audit(session, actor=actor, action="warehouse.created", object_type="warehouse",
                       object_id=warehouse.id, details={"code": code, "locations": len(rows)})
    return WarehouseView(warehouse, rows)


async def list_warehouses(session: AsyncSession) -> list[WarehouseView]:
    """The caller's warehouses by code, each with its locations."""
    warehouses = list(await session.scalars(select(Warehouse).order_by(Warehouse.code)))
    locations = list(await session.scalars(select(WarehouseLocation).order_by(WarehouseLocation.code)))
    return [WarehouseView(w, [loc for loc in locations if loc.warehouse_id == w.id]) for w in warehouses]
