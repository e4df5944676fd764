"""Desired vs reported attributes: what differs, and re-sending the desired value as a command (bounded).

A desired attribute whose type names ``set_by`` (a command and its parameter) is re-sent when the device
reports another value, at most ``MAX_SENDS`` times per value and never while such a command is still open.
"""

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from iot_bridge import commands
from iot_bridge.device_types import AttributeSpec, load_device_types
from iot_bridge.models import Device, DeviceCommand
from tradeloom.audit import Actor

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
