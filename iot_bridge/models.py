"""IoT tables: edge nodes, devices, maintenance, alarms, commands, and the day-partitioned telemetry table.

Telemetry partitions live in their own schema (``iot_telemetry_parts``), created and dropped by the bridge
(``iot_bridge.telemetry``), so the public schema holds only what the migrations made.
"""

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Double,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TIMESTAMP

from tradeloom.db import Base, CreatedAtMixin, IdMixin, TenantMixin, VersionedMixin, utcnow


class Protocol(StrEnum):
    SPARKPLUG = "sparkplug"
    MQTT_JSON = "mqtt_json"
    MODBUS = "modbus"  # polled by an edge agent, which speaks Sparkplug B upstream
    OPCUA = "opcua"  # likewise


class Lifecycle(StrEnum):
    PROVISIONED = "provisioned"
    ACTIVE = "active"
    MAINTENANCE = "maintenance"
    RETIRED = "retired"


class AlarmStatus(StrEnum):
    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"


class CommandStatus(StrEnum):
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    FAILED = "failed"
    TIMED_OUT = "timed_out"


class EdgeNode(IdMixin, CreatedAtMixin, TenantMixin, VersionedMixin, Base):
    """A Sparkplug edge node (gateway or edge agent): ``spBv1.0/{group_id}/…/{edge_node_id}``."""

    __tablename__ = "iot_edge_nodes"
    __table_args__ = (UniqueConstraint("group_id", "edge_node_id"),)

    group_id: Mapped[str] = mapped_column(String(64))
    edge_node_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    site_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sites.id"))
    mqtt_username: Mapped[str] = mapped_column(String(128), unique=True)
    mqtt_password_hash: Mapped[str] = mapped_column(String(200))


class Device(IdMixin, CreatedAtMixin, TenantMixin, VersionedMixin, Base):
    """A registered device of a shipped type; ``code`` is its id in topics (Sparkplug device id or JSON)."""

    __tablename__ = "iot_devices"
    __table_args__ = (UniqueConstraint("org_id", "code"), Index("ix_iot_devices_type", "org_id", "type_code"))

    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    type_code: Mapped[str] = mapped_column(String(64))
    protocol: Mapped[str] = mapped_column(String(16))
    lifecycle: Mapped[str] = mapped_column(String(16), default=Lifecycle.PROVISIONED.value)
    site_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sites.id"))
    work_centre: Mapped[str | None] = mapped_column(String(64))
    edge_node_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("iot_edge_nodes.id"), index=True)
    mqtt_username: Mapped[str | None] = mapped_column(String(128), unique=True)
    mqtt_password_hash: Mapped[str | None] = mapped_column(String(200))
    desired_attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reported_attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)


class MaintenanceSchedule(IdMixin, CreatedAtMixin, TenantMixin, VersionedMixin, Base):
    __tablename__ = "iot_maintenance_schedules"

    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("iot_devices.id"), index=True)
    task: Mapped[str] = mapped_column(String(200))
    interval_days: Mapped[int]
    next_due_on: Mapped[dt.date] = mapped_column(Date)


class MaintenanceRecord(IdMixin, CreatedAtMixin, TenantMixin, Base):
    """Work done on a device (append-only)."""

    __tablename__ = "iot_maintenance_records"

    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("iot_devices.id"), index=True)
    schedule_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("iot_maintenance_schedules.id"))
    kind: Mapped[str] = mapped_column(String(16))
    performed_on: Mapped[dt.date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(String(2000), default="")
    performed_by: Mapped[uuid.UUID | None]


class Alarm(IdMixin, TenantMixin, VersionedMixin, Base):
    """One occurrence of an alarm rule on a device; at most one not-cleared row per device and rule."""

    __tablename__ = "iot_alarms"
    __table_args__ = (
        Index("uq_iot_alarms_open", "device_id", "rule_code", unique=True,
              postgresql_where=text("status <> 'cleared'")),
        Index("ix_iot_alarms_status", "org_id", "status", "raised_at"),
    )

    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("iot_devices.id"), index=True)
    rule_code: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=AlarmStatus.ACTIVE.value)
    message: Mapped[str] = mapped_column(String(500))
    value: Mapped[float | None] = mapped_column(Double)
    raised_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_by: Mapped[uuid.UUID | None]
    cleared_at: Mapped[dt.datetime | None]


class DeviceCommand(IdMixin, CreatedAtMixin, TenantMixin, Base):
    """A command sent to a device, matched to its acknowledgement by ``correlation_id``."""

    __tablename__ = "iot_device_commands"

    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("iot_devices.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    correlation_id: Mapped[uuid.UUID] = mapped_column(unique=True, default=uuid.uuid4)
    status: Mapped[str] = mapped_column(String(16), default=CommandStatus.SENT.value)
    deadline_at: Mapped[dt.datetime]
    acknowledged_at: Mapped[dt.datetime | None]
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    requested_by: Mapped[uuid.UUID | None]


# Written only by the bridge with COPY; partitioned by day on ``ts`` (see iot_bridge.telemetry).
telemetry = Table(
    "iot_telemetry", Base.metadata,
    Column("org_id", PG_UUID(as_uuid=True), nullable=False),
    Column("device_id", PG_UUID(as_uuid=True), nullable=False),
    Column("key", String(64), nullable=False),
    Column("ts", TIMESTAMP(timezone=True), nullable=False),
    Column("value_num", Double),
    Column("value_text", Text),
    Column("seq", BigInteger),
    Column("historical", Boolean, nullable=False, server_default=text("false")),
    Index("ix_iot_telemetry_device_key_ts", "device_id", "key", "ts"),
    postgresql_partition_by="RANGE (ts)",
)


class ProductionStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"


class ProductionOrder(IdMixin, CreatedAtMixin, TenantMixin, VersionedMixin, Base):
    """A confirmed purchase-order line made on the supplier's (``org_id``) devices; the buyer may read it.

    ``completed`` is recomputed by the bridge from ``iot_production_counts`` (see ``iot_bridge.production``).
    """

    __tablename__ = "iot_production_orders"

    buyer_org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("purchase_orders.id"), index=True)
    order_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order_lines.id"), unique=True)
    work_centre: Mapped[str] = mapped_column(String(64))
    device_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(PG_UUID(as_uuid=True)))
    ordered: Mapped[int] = mapped_column(BigInteger)
    completed: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[str | None] = mapped_column(String(16))
    state_at: Mapped[dt.datetime | None]
    eta_at: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=ProductionStatus.RUNNING.value)
    finished_at: Mapped[dt.datetime | None]
    inspected: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))  # CMM measurements
    out_of_tolerance: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))


class ProductionCount(TenantMixin, Base):
    """One good-part counter reading of a device for a production order; the key makes replays harmless."""

    __tablename__ = "iot_production_counts"

    production_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("iot_production_orders.id"), primary_key=True)
    device_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    ts: Mapped[dt.datetime] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # -1 when the message had none
    good_count: Mapped[int] = mapped_column(BigInteger)


class EdgeSession(TenantMixin, Base):
    """The bridge's Sparkplug session of an edge node, saved with each batch so a restart loses nothing.

    Births are kept as received (the protobuf bytes: aliases and datatypes come from them again);
    ``expected_seq`` is the seq the next message must carry, committed with the batch that advanced it.
    """

    __tablename__ = "iot_edge_sessions"

    group_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    edge_node_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    bd_seq: Mapped[int] = mapped_column(BigInteger)
    expected_seq: Mapped[int]
    online: Mapped[bool] = mapped_column(default=True)
    node_birth: Mapped[bytes] = mapped_column(LargeBinary)
    device_births: Mapped[dict[str, Any]] = mapped_column(default=dict)  # device code → birth, base64
    skipped_seqs: Mapped[list[int]] = mapped_column(ARRAY(SmallInteger), server_default="{}")  # a gap went past
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class HeldMessage(TenantMixin, Base):
    """A Sparkplug message the bridge holds until its predecessors arrive (``iot_bridge.bridge.reorder``).

    Saved in the batch's transaction and only then acknowledged to the broker, so a hold takes no place in
    the broker's window of unacknowledged messages and a restart finds it again; deleted in the transaction
    that ingests it. At most one per edge node and seq: a second one with that seq releases the node's holds.
    """

    __tablename__ = "iot_held_messages"

    group_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    edge_node_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    held_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class QualityResult(TenantMixin, Base):
    """One part measured by a measuring device (CMM) in a production order; the key makes replays harmless."""

    __tablename__ = "iot_quality_results"

    production_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("iot_production_orders.id"), primary_key=True)
    device_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    ts: Mapped[dt.datetime] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # -1 when the message had none
    deviation: Mapped[float] = mapped_column(Double)
    in_tolerance: Mapped[bool]
