"""Commands to devices: requested through the API, sent by the bridge, acknowledged by the device.

A command is a row first (``pending``, audited, with a correlation id and a deadline); the bridge sends
pending rows and marks them ``sent``:

- plain devices get JSON on ``tl/{org}/{code}/commands`` and answer with JSON on ``tl/{org}/{code}/commands/ack``;
- devices behind an edge node get a Sparkplug DCMD and their edge node answers in Sparkplug, with a DDATA
  carrying the correlation id and the result (names in ``iot_bridge.sparkplug.commands``; the edge agent
  turns the parameters into Modbus register or OPC UA node writes from the device type's mapping).

Either answer goes through ``acknowledge``; a command not answered by its deadline becomes ``timed_out``.
"""

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from iot_bridge import registry
from iot_bridge.device_types import load_device_types, storable_text
from iot_bridge.models import CommandStatus, Device, DeviceCommand, EdgeNode
from iot_bridge.sparkplug import DataType, Metric
from iot_bridge.sparkplug.commands import CORRELATION, command_metric
from tradeloom.audit import Actor, record_audit
from tradeloom.db import utcnow
from tradeloom.errors import Conflict, Invalid
from tradeloom.outbox.service import emit

PENDING = "pending"  # stored but not yet published by the bridge
_SPARKPLUG_TYPES = {"double": DataType.DOUBLE, "int": DataType.INT64, "bool": DataType.BOOLEAN,
                    "string": DataType.STRING}


async def request_command(
    session: AsyncSession, *, actor: Actor, device_id: uuid.UUID, name: str, params: dict[str, Any],
    timeout_seconds: int,
) -> DeviceCommand:
    """Queue a command of the device's type with checked parameters; the bridge sends it."""
    device = await registry.get_device(session, device_id=device_id)
    spec = load_device_types()[device.type_code].command(name)
    if spec is None:
        raise Invalid(f"A {device.type_code} has no command {name!r}.", code="command_unknown")
    problems = spec.check_params(params)
    if problems:
        raise Invalid("; ".join(problems), code="command_params_invalid")
    if device.lifecycle == "retired":
        raise Conflict("A retired device takes no commands.", code="device_retired")
    command = DeviceCommand(
        org_id=actor.org_id, device_id=device.id, name=name, params=params, correlation_id=uuid.uuid4(),
        status=PENDING, deadline_at=utcnow() + dt.timedelta(seconds=timeout_seconds), result={},
        requested_by=actor.user_id,
    )
    session.add(command)
    await session.flush()
    details = {"command_id": str(command.id), "correlation_id": str(command.correlation_id), "name": name,
               "params": params, "device_id": str(device.id)}
    await record_audit(session, actor=actor, action="iot.command.requested", object_type="iot_device",
                       object_id=device.id, details=details)
    await emit(session, org_id=actor.org_id, topic="iot.command.requested", payload=details)
    return command


async def commands_of(session: AsyncSession, *, device_id: uuid.UUID, limit: int = 50) -> list[DeviceCommand]:
    await registry.get_device(session, device_id=device_id)
    query = (select(DeviceCommand).where(DeviceCommand.device_id == device_id)
             .order_by(DeviceCommand.created_at.desc()).limit(limit))
    return list((await session.scalars(query)).all())


@dataclass(frozen=True)
class OutgoingCommand:
    """What the bridge needs to publish one command."""

    command_id: uuid.UUID
    correlation_id: uuid.UUID
    name: str
    params: dict[str, Any]
    org_id: uuid.UUID
    device_code: str
    type_code: str
    group_id: str | None  # Sparkplug group and edge node, for devices behind an edge node
    edge_node_id: str | None

    def sparkplug_metrics(self, timestamp: int) -> tuple[Metric, ...]:
        """DCMD metrics: the parameters as ``Command/<name>/<param>`` and ``Command/<name>/CorrelationId``."""
        spec = load_device_types()[self.type_code].command(self.name)
        assert spec is not None
        types = {p.name: _SPARKPLUG_TYPES[p.type.value] for p in spec.params}
        return (
            Metric(command_metric(self.name, CORRELATION), str(self.correlation_id), DataType.STRING,
                   timestamp=timestamp),
            *(Metric(command_metric(self.name, key), value, types[key], timestamp=timestamp)
              for key, value in self.params.items()),
        )


async def take_pending(session: AsyncSession, *, limit: int = 100) -> list[OutgoingCommand]:
    """Pending commands (any tenant: the bridge), marked sent in the same transaction."""
    rows = (await session.execute(
        select(DeviceCommand, Device.code, Device.type_code, EdgeNode.group_id, EdgeNode.edge_node_id)
        .join(Device, Device.id == DeviceCommand.device_id)
        .outerjoin(EdgeNode, EdgeNode.id == Device.edge_node_id)
        .where(DeviceCommand.status == PENDING).order_by(DeviceCommand.created_at).limit(limit)
        .with_for_update(of=DeviceCommand, skip_locked=True)
    )).all()
    for command, *_ in rows:
        command.status = CommandStatus.SENT.value
    return [OutgoingCommand(c.id, c.correlation_id, c.name, c.params, c.org_id, code, type_code, group, edge)
            for c, code, type_code, group, edge in rows]


async def acknowledge(session: AsyncSession, *, org_id: uuid.UUID, device_code: str, answer: dict[str, Any]) -> bool:
    """Record a device's answer ``{"correlation_id", "ok", "detail"}``; False if it matches no sent command."""
    try:
        correlation_id = uuid.UUID(str(answer.get("correlation_id")))
    except ValueError:
        return False
    ok = answer.get("ok") is True
    detail = storable_text(str(answer.get("detail", "")))[:500]  # the device's own words, as far as JSON holds them
    command_id = await session.scalar(
        update(DeviceCommand)
        .where(DeviceCommand.correlation_id == correlation_id, DeviceCommand.org_id == org_id,
               DeviceCommand.status == CommandStatus.SENT.value,
               DeviceCommand.device_id == select(Device.id).where(Device.org_id == org_id,
                                                                  Device.code == device_code).scalar_subquery())
        .values(status=(CommandStatus.ACKNOWLEDGED if ok else CommandStatus.FAILED).value,
                acknowledged_at=utcnow(), result={"ok": ok, "detail": detail})
        .returning(DeviceCommand.id)
    )
    if command_id is not None:
        await record_audit(session, actor=Actor(org_id=org_id), action="iot.command.answered",
                           object_type="iot_command", object_id=command_id, details={"ok": ok})
    return command_id is not None


async def expire(session: AsyncSession, *, now: dt.datetime) -> int:
    """Sent or pending commands past their deadline become ``timed_out``; returns how many."""
    expired = await session.execute(
        update(DeviceCommand)
        .where(DeviceCommand.status.in_([PENDING, CommandStatus.SENT.value]), DeviceCommand.deadline_at < now)
        .values(status=CommandStatus.TIMED_OUT.value).returning(DeviceCommand.id)
    )
    return len(expired.all())
