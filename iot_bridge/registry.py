"""Device registry: edge nodes, devices, lifecycle and maintenance, for the caller's organization (RLS)."""

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from iot_bridge.credentials import hash_mqtt_password, new_mqtt_password
from iot_bridge.device_types import load_device_types
from iot_bridge.models import Device, EdgeNode, Lifecycle, MaintenanceRecord, MaintenanceSchedule, Protocol
from iot_bridge.schemas import DeviceCreate, EdgeNodeCreate, MaintenanceRecordCreate, MaintenanceScheduleCreate
from tradeloom.audit import Actor, record_audit
from tradeloom.concurrency import check_version
from tradeloom.db import flush_or_conflict
from tradeloom.errors import Conflict, Invalid, NotFound
from tradeloom.outbox.service import emit
from tradeloom.pagination import decode_cursor, encode_cursor

# Which lifecycle steps are allowed; a retired device stays retired.
_NEXT_LIFECYCLE = {
    Lifecycle.PROVISIONED: {Lifecycle.ACTIVE, Lifecycle.RETIRED},
    Lifecycle.ACTIVE: {Lifecycle.MAINTENANCE, Lifecycle.RETIRED},
    Lifecycle.MAINTENANCE: {Lifecycle.ACTIVE, Lifecycle.RETIRED},
    Lifecycle.RETIRED: set(),
}


async def register_edge_node(session: AsyncSession, *, actor: Actor, fields: EdgeNodeCreate) -> tuple[EdgeNode, str]:
    """Register a Sparkplug edge node; returns it with its MQTT password (shown once)."""
    password = new_mqtt_password()
    node = EdgeNode(
        org_id=actor.org_id, **fields.model_dump(),
        mqtt_username=f"edge.{fields.group_id}.{fields.edge_node_id}",
        mqtt_password_hash=hash_mqtt_password(password),
    )
    session.add(node)
    await flush_or_conflict(
        session, f"Edge node {fields.group_id}/{fields.edge_node_id} is already registered.", "edge_node_taken"
    )
    await _record(session, actor, "iot.edge_node.registered", "iot_edge_node", node.id,
                  {"group_id": node.group_id, "edge_node_id": node.edge_node_id})
    return node, password


async def list_edge_nodes(session: AsyncSession) -> list[EdgeNode]:
    return list((await session.scalars(select(EdgeNode).order_by(EdgeNode.group_id, EdgeNode.edge_node_id))).all())


async def get_edge_node(session: AsyncSession, *, edge_node_id: uuid.UUID) -> EdgeNode:
    node = await session.get(EdgeNode, edge_node_id)
    if node is None:
        raise NotFound("No such edge node.", code="edge_node_not_found")
    return node


async def register_device(session: AsyncSession, *, actor: Actor, fields: DeviceCreate) -> tuple[Device, str | None]:
    """Register a device of a shipped type; plain-MQTT devices get their own MQTT password (shown once)."""
    if fields.type_code not in load_device_types():
        raise Invalid(f"Unknown device type {fields.type_code!r}.", code="device_type_unknown")
    uses_edge_node = fields.protocol is not Protocol.MQTT_JSON
    if uses_edge_node != (fields.edge_node_id is not None):
        raise Invalid("Sparkplug, Modbus and OPC UA devices are reached through an edge node; plain MQTT devices "
                      "connect themselves.", code="device_edge_node_mismatch")
    if fields.edge_node_id is not None:
        await get_edge_node(session, edge_node_id=fields.edge_node_id)  # RLS: only our own edge nodes exist
    password = None if uses_edge_node else new_mqtt_password()
    device = Device(
        org_id=actor.org_id, **fields.model_dump(), lifecycle=Lifecycle.PROVISIONED.value,
        mqtt_username=None if password is None else f"dev.{actor.org_id}.{fields.code}",
        mqtt_password_hash=None if password is None else hash_mqtt_password(password),
        desired_attributes={}, reported_attributes={},
    )
    session.add(device)
    await flush_or_conflict(session, f"Device code {fields.code} is already used.", "device_code_taken")
    await _record(session, actor, "iot.device.registered", "iot_device", device.id,
                  {"code": device.code, "type_code": device.type_code})
    return device, password


async def get_device(session: AsyncSession, *, device_id: uuid.UUID) -> Device:
    device = await session.get(Device, device_id)
    if device is None:
        raise NotFound("No such device.", code="device_not_found")
    return device


async def list_devices(
    session: AsyncSession, *, limit: int, cursor: str | None = None, type_code: str | None = None,
    lifecycle: Lifecycle | None = None, work_centre: str | None = None, search: str | None = None,
) -> tuple[list[Device], str | None]:
    """Devices ordered by code, filtered, one keyset page at a time."""
    query = select(Device).order_by(Device.code).limit(limit + 1)
    if cursor:
        (after_code,) = decode_cursor(cursor, arity=1)
        query = query.where(Device.code > str(after_code))
    if type_code:
        query = query.where(Device.type_code == type_code)
    if lifecycle:
        query = query.where(Device.lifecycle == lifecycle.value)
    if work_centre:
        query = query.where(Device.work_centre == work_centre)
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(Device.code.ilike(pattern) | Device.name.ilike(pattern))
    devices = list((await session.scalars(query)).all())
    next_cursor = encode_cursor(devices[limit - 1].code) if len(devices) > limit else None
    return devices[:limit], next_cursor


async def change_lifecycle(
    session: AsyncSession, *, actor: Actor, device_id: uuid.UUID, expected_version: int, lifecycle: Lifecycle
) -> Device:
    """Move a device along provisioned → active ⇄ maintenance → retired."""
    device = await get_device(session, device_id=device_id)
    check_version(device.version, expected_version)
    current = Lifecycle(device.lifecycle)
    if lifecycle not in _NEXT_LIFECYCLE[current]:
        raise Conflict(f"A {current.value} device cannot become {lifecycle.value}.", code="lifecycle_step_invalid")
    device.lifecycle = lifecycle.value
    await session.flush()
    await _record(session, actor, "iot.device.lifecycle_changed", "iot_device", device.id,
                  {"from": current.value, "to": lifecycle.value})
    return device


async def add_maintenance_schedule(
    session: AsyncSession, *, actor: Actor, device_id: uuid.UUID, fields: MaintenanceScheduleCreate
) -> MaintenanceSchedule:
    """Plan recurring maintenance for a device."""
    await get_device(session, device_id=device_id)
    schedule = MaintenanceSchedule(org_id=actor.org_id, device_id=device_id, **fields.model_dump())
    session.add(schedule)
    await session.flush()
    await _record(session, actor, "iot.maintenance.scheduled", "iot_device", device_id, {"task": fields.task})
    return schedule


async def get_maintenance_schedule(session: AsyncSession, *, schedule_id: uuid.UUID) -> MaintenanceSchedule:
    schedule = await session.get(MaintenanceSchedule, schedule_id)
    if schedule is None:
        raise NotFound("No maintenance schedule with this id.", code="maintenance_schedule_not_found")
    return schedule


async def record_maintenance(
    session: AsyncSession, *, actor: Actor, device_id: uuid.UUID, fields: MaintenanceRecordCreate
) -> MaintenanceRecord:
    """Log work done on a device; fulfilling a schedule moves its next due date one interval on."""
    await get_device(session, device_id=device_id)
    if fields.schedule_id is not None:
        schedule = await session.get(MaintenanceSchedule, fields.schedule_id)
        if schedule is None or schedule.device_id != device_id:
            raise Invalid("That schedule is not one of this device's.", code="maintenance_schedule_unknown")
        schedule.next_due_on = fields.performed_on + dt.timedelta(days=schedule.interval_days)
    record = MaintenanceRecord(
        org_id=actor.org_id, device_id=device_id, performed_by=actor.user_id, **fields.model_dump()
    )
    session.add(record)
    await session.flush()
    await _record(session, actor, "iot.maintenance.recorded", "iot_device", device_id,
                  {"kind": fields.kind, "performed_on": fields.performed_on.isoformat()})
    return record


async def maintenance_of(
    session: AsyncSession, *, device_id: uuid.UUID
) -> tuple[list[MaintenanceSchedule], list[MaintenanceRecord]]:
    """A device's schedules (soonest due first) and its records (latest first)."""
    schedules = await session.scalars(
        select(MaintenanceSchedule).where(MaintenanceSchedule.device_id == device_id)
        .order_by(MaintenanceSchedule.next_due_on)
    )
    records = await session.scalars(
        select(MaintenanceRecord).where(MaintenanceRecord.device_id == device_id)
        .order_by(MaintenanceRecord.performed_on.desc(), MaintenanceRecord.created_at.desc())
    )
    return list(schedules.all()), list(records.all())


async def _record(
    session: AsyncSession, actor: Actor, topic: str, object_type: str, object_id: uuid.UUID, payload: dict
) -> None:
    payload = {f"{object_type.removeprefix('iot_')}_id": str(object_id), **payload}
    await emit(session, org_id=actor.org_id, topic=topic, payload=payload)
    await record_audit(session, actor=actor, action=topic, object_type=object_type, object_id=object_id,
                       details=payload)


async def maintenance_overview(
    session: AsyncSession, *, limit: int = 200
) -> tuple[list[tuple[MaintenanceSchedule, str]], list[tuple[MaintenanceRecord, str]]]:
    """The organization's schedules (soonest due first) and latest records, each with its device's code."""
    schedules = await session.execute(
        select(MaintenanceSchedule, Device.code).join(Device, Device.id == MaintenanceSchedule.device_id)
        .order_by(MaintenanceSchedule.next_due_on).limit(limit)
    )
    records = await session.execute(
        select(MaintenanceRecord, Device.code).join(Device, Device.id == MaintenanceRecord.device_id)
        .order_by(MaintenanceRecord.performed_on.desc(), MaintenanceRecord.created_at.desc()).limit(limit)
    )
    return [(s, code) for s, code in schedules], [(r, code) for r, code in records]
