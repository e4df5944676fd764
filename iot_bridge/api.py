"""``/api/v1/iot``: device types, edge nodes, devices, lifecycle and maintenance of the caller's organization."""

import uuid
from typing import Annotated, Any

from fastapi import Depends, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from iot_bridge import alarms, commands, production, reconcile, registry
from iot_bridge.device_types import load_device_types
from iot_bridge.models import Device, Lifecycle
from iot_bridge.schemas import (
    AlarmOut,
    AttributeSyncOut,
    CommandOut,
    CommandRequest,
    DesiredAttributesSet,
    DeviceCreate,
    DeviceOut,
    DevicePage,
    DeviceRegistered,
    EdgeNodeCreate,
    EdgeNodeOut,
    EdgeNodeRegistered,
    LifecycleChange,
    MaintenanceRecordCreate,
    MaintenanceRecordOut,
    MaintenanceScheduleCreate,
    MaintenanceScheduleOut,
    ProductionOut,
    ProductionStart,
)
from tradeloom.auth import Principal, requires
from tradeloom.concurrency import ExpectedVersion, set_etag
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.pagination import Cursor, PageSize
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix="/api/v1/iot", tags=["iot"], route_class=TransactionalRoute)
Reader = Annotated[Principal, Depends(requires(Permission.DEVICES_READ))]
Manager = Annotated[Principal, Depends(requires(Permission.DEVICES_MANAGE))]


@router.get("/device-types")
async def list_device_types(principal: Reader) -> list[dict[str, Any]]:
    """The shipped device types (profiles) with telemetry, attributes, commands, alarm rules and protocol maps."""
    return [spec.model_dump(mode="json") for spec in load_device_types().values()]


@router.post("/edge-nodes", status_code=201)
async def register_edge_node(
    body: EdgeNodeCreate, principal: Manager, session: DbSession, response: Response, _key: Idempotent
) -> EdgeNodeRegistered:
    """Register a Sparkplug edge node; the response carries its MQTT password, shown only this once."""
    node, password = await registry.register_edge_node(session, actor=principal.actor, fields=body)
    set_etag(response, node.version)
    return EdgeNodeRegistered.model_validate(
        {**EdgeNodeOut.model_validate(node).model_dump(), "mqtt_password": password}
    )


@router.get("/edge-nodes")
async def list_edge_nodes(principal: Reader, session: DbSession) -> list[EdgeNodeOut]:
    """Your organization's edge nodes."""
    return [EdgeNodeOut.model_validate(node) for node in await registry.list_edge_nodes(session)]


@router.post("/devices", status_code=201)
async def register_device(
    body: DeviceCreate, principal: Manager, session: DbSession, response: Response, _key: Idempotent
) -> DeviceRegistered:
    """Register a device; a plain-MQTT device gets its MQTT password in the response, shown only this once."""
    device, password = await registry.register_device(session, actor=principal.actor, fields=body)
    set_etag(response, device.version)
    response.headers["Location"] = f"{router.prefix}/devices/{device.id}"
    return DeviceRegistered.model_validate({**DeviceOut.model_validate(device).model_dump(), "mqtt_password": password})


@router.get("/devices")
async def list_devices(
    principal: Reader, session: DbSession, limit: PageSize = 50, cursor: Cursor = None,
    type_code: Annotated[str | None, Query(max_length=64)] = None, lifecycle: Lifecycle | None = None,
    work_centre: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=100, description="part of the code or name")] = None,
) -> DevicePage:
    """Your organization's devices, ordered by code, with filters."""
    devices, next_cursor = await registry.list_devices(
        session, limit=limit, cursor=cursor, type_code=type_code, lifecycle=lifecycle, work_centre=work_centre,
        search=q,
    )
    return DevicePage(items=[DeviceOut.model_validate(d) for d in devices], next_cursor=next_cursor)


@router.get("/devices/{device_id}")
async def get_device(device_id: uuid.UUID, principal: Reader, session: DbSession, response: Response) -> DeviceOut:
    """One device, with its version as ETag."""
    device = await registry.get_device(session, device_id=device_id)
    set_etag(response, device.version)
    return DeviceOut.model_validate(device)


@router.post("/devices/{device_id}/lifecycle")
async def change_lifecycle(
    device_id: uuid.UUID, body: LifecycleChange, principal: Manager, session: DbSession, response: Response,
    expected_version: ExpectedVersion,
) -> DeviceOut:
    """Activate, send to maintenance or retire a device; send its ETag as If-Match."""
    device = await registry.change_lifecycle(
        session, actor=principal.actor, device_id=device_id, expected_version=expected_version,
        lifecycle=body.lifecycle,
    )
    set_etag(response, device.version)
    return DeviceOut.model_validate(device)


@router.post("/devices/{device_id}/maintenance-schedules", status_code=201)
async def add_maintenance_schedule(
    device_id: uuid.UUID, body: MaintenanceScheduleCreate, principal: Manager, session: DbSession,
    _key: Idempotent,
) -> MaintenanceScheduleOut:
    """Plan recurring maintenance of a device."""
    schedule = await registry.add_maintenance_schedule(
        session, actor=principal.actor, device_id=device_id, fields=body
    )
    return MaintenanceScheduleOut.model_validate(schedule)


@router.post("/devices/{device_id}/maintenance-records", status_code=201)
async def record_maintenance(
    device_id: uuid.UUID, body: MaintenanceRecordCreate, principal: Manager, session: DbSession, _key: Idempotent,
) -> MaintenanceRecordOut:
    """Log maintenance work done on a device (fulfilling a schedule moves its next due date on)."""
    record = await registry.record_maintenance(session, actor=principal.actor, device_id=device_id, fields=body)
    return MaintenanceRecordOut.model_validate(record)


@router.get("/alarms")
async def list_alarms(
    principal: Reader, session: DbSession, device_id: uuid.UUID | None = None,
    history: Annotated[bool, Query(description="include cleared alarms")] = False,
) -> list[AlarmOut]:
    """Your organization's alarms, newest first: open ones, or the history with cleared ones."""
    found = await alarms.list_alarms(session, open_only=not history, device_id=device_id)
    return [AlarmOut.model_validate(alarm) for alarm in found]


@router.post("/alarms/{alarm_id}/acknowledge")
async def acknowledge_alarm(
    alarm_id: uuid.UUID, principal: Manager, session: DbSession, response: Response, expected_version: ExpectedVersion,
) -> AlarmOut:
    """Acknowledge an active alarm; send its ETag as If-Match."""
    alarm = await alarms.acknowledge(session, actor=principal.actor, alarm_id=alarm_id,
                                     expected_version=expected_version)
    set_etag(response, alarm.version)
    return AlarmOut.model_validate(alarm)


@router.post("/alarms/{alarm_id}/clear")
async def clear_alarm(
    alarm_id: uuid.UUID, principal: Manager, session: DbSession, response: Response, expected_version: ExpectedVersion,
) -> AlarmOut:
    """Clear an alarm by hand; send its ETag as If-Match."""
    alarm = await alarms.clear(session, actor=principal.actor, alarm_id=alarm_id, expected_version=expected_version)
    set_etag(response, alarm.version)
    return AlarmOut.model_validate(alarm)


@router.get("/devices/{device_id}/desired-attributes")
async def desired_attributes(
    device_id: uuid.UUID, principal: Reader, session: DbSession, response: Response,
) -> list[AttributeSyncOut]:
    """Desired vs reported values of the device's desired attributes (in_sync / pending / drift)."""
    device = await registry.get_device(session, device_id=device_id)
    set_etag(response, device.version)
    return await _sync_out(session, device)


@router.put("/devices/{device_id}/desired-attributes")
async def set_desired_attributes(
    device_id: uuid.UUID, body: DesiredAttributesSet, principal: Manager, session: DbSession, response: Response,
    expected_version: ExpectedVersion,
) -> list[AttributeSyncOut]:
    """Set desired values (If-Match: the device's ETag); those a command applies are sent to the device now."""
    device = await reconcile.set_desired(session, actor=principal.actor, device_id=device_id,
                                         expected_version=expected_version, values=body.values)
    set_etag(response, device.version)
    return await _sync_out(session, device)


async def _sync_out(session: AsyncSession, device: Device) -> list[AttributeSyncOut]:
    return [AttributeSyncOut.model_validate(state, from_attributes=True)
            for state in await reconcile.sync_states(session, device)]


@router.post("/devices/{device_id}/commands", status_code=202)
async def request_command(
    device_id: uuid.UUID, body: CommandRequest, principal: Manager, session: DbSession, _key: Idempotent,
) -> CommandOut:
    """Send a command of the device's type; follow its status (sent, acknowledged, failed, timed_out)."""
    command = await commands.request_command(
        session, actor=principal.actor, device_id=device_id, name=body.name, params=body.params,
        timeout_seconds=body.timeout_seconds,
    )
    return CommandOut.model_validate(command)


@router.get("/devices/{device_id}/commands")
async def list_commands(device_id: uuid.UUID, principal: Reader, session: DbSession) -> list[CommandOut]:
    """A device's latest commands with their status."""
    return [CommandOut.model_validate(c) for c in await commands.commands_of(session, device_id=device_id)]


@router.post("/production-orders", status_code=201)
async def start_production(
    body: ProductionStart, principal: Manager, session: DbSession, response: Response, _key: Idempotent
) -> ProductionOut:
    """Put a confirmed line of one of your orders into production on your devices (EPCIS start event)."""
    order = await production.start_production(session, actor=principal.actor, order_line_id=body.order_line_id,
                                              work_centre=body.work_centre, device_ids=body.device_ids)
    set_etag(response, order.version)
    return ProductionOut.model_validate(order)
