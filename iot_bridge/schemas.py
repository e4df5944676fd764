"""IoT documents in and out of the API."""

import datetime as dt
import uuid
from typing import Any

from pydantic import Field

from iot_bridge.models import Lifecycle, Protocol
from tradeloom.schemas import ApiModel, StrictModel

_SPARKPLUG_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"  # no MQTT separators or wildcards


class EdgeNodeCreate(StrictModel):
    group_id: str = Field(pattern=_SPARKPLUG_ID)
    edge_node_id: str = Field(pattern=_SPARKPLUG_ID)
    name: str = Field(min_length=1, max_length=200)
    site_id: uuid.UUID | None = None


class EdgeNodeOut(ApiModel):
    id: uuid.UUID
    group_id: str
    edge_node_id: str
    name: str
    site_id: uuid.UUID | None
    mqtt_username: str
    version: int
    created_at: dt.datetime


class EdgeNodeRegistered(EdgeNodeOut):
    mqtt_password: str = Field(description="shown once; only its hash is stored")


class DeviceCreate(StrictModel):
    code: str = Field(pattern=_SPARKPLUG_ID, description="the device id in topics; unique within the organization")
    name: str = Field(min_length=1, max_length=200)
    type_code: str = Field(max_length=64, description="one of GET /api/v1/iot/device-types")
    protocol: Protocol
    site_id: uuid.UUID | None = None
    work_centre: str | None = Field(default=None, max_length=64)
    edge_node_id: uuid.UUID | None = Field(default=None, description="required for Sparkplug, Modbus and OPC UA")


class DeviceOut(ApiModel):
    id: uuid.UUID
    org_id: uuid.UUID
    code: str
    name: str
    type_code: str
    protocol: Protocol
    lifecycle: Lifecycle
    site_id: uuid.UUID | None
    work_centre: str | None
    edge_node_id: uuid.UUID | None
    mqtt_username: str | None
    desired_attributes: dict[str, Any]
    reported_attributes: dict[str, Any]
    version: int
    created_at: dt.datetime


class DeviceRegistered(DeviceOut):
    mqtt_password: str | None = Field(description="plain-MQTT devices only; shown once, only its hash is stored")


class DevicePage(ApiModel):
    items: list[DeviceOut]
    next_cursor: str | None


class LifecycleChange(StrictModel):
    lifecycle: Lifecycle


class MaintenanceScheduleCreate(StrictModel):
    task: str = Field(min_length=1, max_length=200)
    interval_days: int = Field(ge=1, le=3660)
    next_due_on: dt.date


class MaintenanceScheduleOut(ApiModel):
    id: uuid.UUID
    device_id: uuid.UUID
    task: str
    interval_days: int
    next_due_on: dt.date
    version: int


class MaintenanceRecordCreate(StrictModel):
    kind: str = Field(pattern=r"^(preventive|corrective|inspection|calibration)$")
    performed_on: dt.date
    notes: str = Field(default="", max_length=2000)
    schedule_id: uuid.UUID | None = Field(default=None, description="the schedule this work fulfils (advances it)")


class MaintenanceRecordOut(ApiModel):
    id: uuid.UUID
    device_id: uuid.UUID
    schedule_id: uuid.UUID | None
    kind: str
    performed_on: dt.date
    notes: str
    performed_by: uuid.UUID | None
    created_at: dt.datetime


class AlarmOut(ApiModel):
    id: uuid.UUID
    device_id: uuid.UUID
    rule_code: str
    severity: str
    status: str
    message: str
    value: float | None
    raised_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: uuid.UUID | None
    cleared_at: dt.datetime | None
    version: int


class DesiredAttributesSet(StrictModel):
    values: dict[str, Any] = Field(description="desired attribute → value; null removes it", max_length=50)


class AttributeSyncOut(ApiModel):
    key: str
    desired: Any
    reported: Any
    state: str = Field(description="in_sync, pending (a command applies it) or drift")
    sent_by_command: bool


class CommandRequest(StrictModel):
    name: str = Field(max_length=64, description="one of the device type's commands")
    params: dict[str, Any] = Field(default_factory=dict)
    timeout_seconds: int = Field(default=30, ge=1, le=3600, description="unanswered by then ⇒ timed_out")


class CommandOut(ApiModel):
    id: uuid.UUID
    device_id: uuid.UUID
    name: str
    params: dict[str, Any]
    correlation_id: uuid.UUID
    status: str
    deadline_at: dt.datetime
    acknowledged_at: dt.datetime | None
    result: dict[str, Any]
    requested_by: uuid.UUID | None
    created_at: dt.datetime


class ProductionStart(StrictModel):
    order_line_id: uuid.UUID
    work_centre: str = Field(min_length=1, max_length=64)
    device_ids: list[uuid.UUID] = Field(min_length=1, max_length=50)


class ProductionOut(ApiModel):
    id: uuid.UUID
    order_id: uuid.UUID
    order_line_id: uuid.UUID
    work_centre: str
    device_ids: list[uuid.UUID]
    ordered: int
    completed: int
    state: str | None
    status: str
    eta_at: dt.datetime | None
