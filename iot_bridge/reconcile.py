"""Desired vs reported attributes: what differs, and re-sending the desired value as a command (bounded).

A desired attribute whose type names ``set_by`` (a command and its parameter) is sent as that command when it
is set (``set_desired``: a DCMD for devices behind an edge node, the JSON commands topic for plain devices) and
re-sent when the device reports another value, at most ``MAX_SENDS`` times per value and never while such a
command is still open. ``sync_states`` tells, per attribute, in sync / pending / drift.
"""

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from iot_bridge import commands, registry
from iot_bridge.device_types import AttributeSpec, load_device_types
from iot_bridge.models import Device, DeviceCommand
from tradeloom.audit import Actor, record_audit
from tradeloom.concurrency import check_version
from tradeloom.errors import Invalid

MAX_SENDS = 3
COMMAND_TIMEOUT_SECONDS = 30
OPEN_STATUSES = (commands.PENDING, "sent")


def mismatches(device: Device) -> list[tuple[AttributeSpec, Any, Any]]:
    """(attribute, desired, reported) for each desired attribute the device reports differently."""
    spec = load_device_types()[device.type_code]
    return [(attribute, device.desired_attributes[attribute.key], device.reported_attributes.get(attribute.key))
            for attribute in spec.attributes
            if attribute.access == "desired" and attribute.key in device.desired_attributes
            and device.reported_attributes.get(attribute.key) != device.desired_attributes[attribute.key]]


async def resend_desired(session: AsyncSession, *, device_ids: list[uuid.UUID]) -> list[DeviceCommand]:
    """Queue the commands that apply differing desired values (the bridge, after storing reported ones)."""
    sent: list[DeviceCommand] = []
    if not device_ids:
        return sent
    for device in (await session.scalars(select(Device).where(Device.id.in_(device_ids)))).all():
        for attribute, desired, _reported in mismatches(device):
            if attribute.set_by is None:
                continue
            params = {attribute.set_by.param: desired}
            if await _may_send(session, device.id, attribute.set_by.command, params):
                sent.append(await commands.request_command(
                    session, actor=Actor(org_id=device.org_id), device_id=device.id, name=attribute.set_by.command,
                    params=params, timeout_seconds=COMMAND_TIMEOUT_SECONDS))
    return sent


async def _may_send(session: AsyncSession, device_id: uuid.UUID, name: str, params: dict[str, Any]) -> bool:
    same = (DeviceCommand.device_id == device_id, DeviceCommand.name == name, DeviceCommand.params == params)
    total = await session.scalar(select(func.count()).where(*same))
    still_open = await session.scalar(select(func.count()).where(*same, DeviceCommand.status.in_(OPEN_STATUSES)))
    return (total or 0) < MAX_SENDS and not still_open


class SyncState(StrEnum):
    IN_SYNC = "in_sync"  # the device reports the desired value
    PENDING = "pending"  # not yet: a command applying it is open or will be sent again
    DRIFT = "drift"  # reports another value and nothing more will be sent (retries used, or no command for it)


@dataclass(frozen=True)
class AttributeSync:
    key: str
    desired: Any
    reported: Any
    state: SyncState
    sent_by_command: bool  # the type names a command that applies it (else the device must pick it up)


async def sync_states(session: AsyncSession, device: Device) -> list[AttributeSync]:
    """Each desired attribute with a desired value: desired, reported and where reconciliation stands."""
    states = []
    for attribute in load_device_types()[device.type_code].attributes:
        if attribute.access != "desired" or attribute.key not in device.desired_attributes:
            continue
        desired, reported = device.desired_attributes[attribute.key], device.reported_attributes.get(attribute.key)
        state = SyncState.IN_SYNC if reported == desired else SyncState.DRIFT
        if state is SyncState.DRIFT and attribute.set_by is not None:
            params = {attribute.set_by.param: desired}
            if await _open(session, device.id, attribute.set_by.command, params) or await _may_send(
                    session, device.id, attribute.set_by.command, params):
                state = SyncState.PENDING
        states.append(AttributeSync(attribute.key, desired, reported, state, attribute.set_by is not None))
    return states


async def set_desired(session: AsyncSession, *, actor: Actor, device_id: uuid.UUID, expected_version: int,
                      values: dict[str, Any]) -> Device:
    """Set (or, with null, remove) desired values; those a command applies are sent at once (DCMD or JSON)."""
    device = await registry.get_device(session, device_id=device_id)
    check_version(device.version, expected_version)
    known = {a.key: a for a in load_device_types()[device.type_code].attributes if a.access == "desired"}
    for key, value in values.items():
        if key not in known:
            raise Invalid(f"{key!r} is not a desired attribute of this device type.", code="attribute_not_desired")
        if value is not None and not known[key].type.accepts(value):
            raise Invalid(f"{key!r} needs a {known[key].type.value} value.", code="wrong_type")
    merged = {**device.desired_attributes, **values}
    device.desired_attributes = {key: value for key, value in merged.items() if value is not None}
    await session.flush()
    await record_audit(session, actor=actor, action="iot.device.desired_set", object_type="iot_device",
                       object_id=device.id, details={"values": values})
    await resend_desired(session, device_ids=[device.id])
    return device


async def _open(session: AsyncSession, device_id: uuid.UUID, name: str, params: dict[str, Any]) -> bool:
    return bool(await session.scalar(select(func.count()).where(
        DeviceCommand.device_id == device_id, DeviceCommand.name == name, DeviceCommand.params == params,
        DeviceCommand.status.in_(OPEN_STATUSES))))
