"""The edge agent's configuration file (YAML): its Sparkplug identity, broker, spool and devices.

Example (docs/iot-edge.md has the whole story)::

    group_id: plant-sh
    edge_node_id: line-1
    spool_path: var/edge/line-1.sqlite
    primary_host_id: tradeloom
    modbus:
      - {device_id: press-01, type: stamping_press, host: 10.0.0.21, port: 502, unit: 1, poll_interval_s: 1,
         deadbands: {tonnage: 0.5}, convert: {lube_pressure: psi->bar}}
    opcua:
      - endpoint: opc.tcp://10.0.0.30:4840/
        devices: [{device_id: cmm-01, type: coordinate_measuring_machine, node_prefix: "cmm-01."}]
"""

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from iot_bridge.device_types import DeviceTypeSpec, load_device_types
from iot_bridge.edge.preprocess import UNIT_CONVERSIONS, ReportFilter

_ID = r"^[^/+#\s]+$"  # a Sparkplug id: no MQTT separators or wildcards


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeviceConfig(_Config):
    """What every device of the agent has: its id, its type and how its readings are preprocessed."""

    device_id: str = Field(pattern=_ID)
    type: str
    deadbands: dict[str, float] = Field(default_factory=dict)
    min_interval_s: float = Field(default=0.0, ge=0)
    heartbeat_s: float = Field(default=300.0, gt=0)
    convert: dict[str, str] = Field(default_factory=dict, description="telemetry key → conversion name")

    @field_validator("type")
    @classmethod
    def _known_type(cls, code: str) -> str:
        if code not in load_device_types():
            raise ValueError(f"unknown device type {code!r}")
        return code

    @model_validator(mode="after")
    def _keys_exist(self) -> "DeviceConfig":
        keys = {t.key for t in self.spec.telemetry}
        for key in [*self.deadbands, *self.convert]:
            if key not in keys:
                raise ValueError(f"{self.device_id}: {self.type} has no telemetry key {key!r}")
        for conversion in self.convert.values():
            if conversion not in UNIT_CONVERSIONS:
                raise ValueError(f"unknown unit conversion {conversion!r}; known: {', '.join(UNIT_CONVERSIONS)}")
        return self

    @property
    def spec(self) -> DeviceTypeSpec:
        return load_device_types()[self.type]

    def report_filter(self) -> ReportFilter:
        return ReportFilter(deadbands=self.deadbands, min_interval_s=self.min_interval_s, heartbeat_s=self.heartbeat_s)


class ModbusDeviceConfig(DeviceConfig):
    host: str
    port: int = Field(default=502, ge=1, le=65535)
    unit: int = Field(default=1, ge=1, le=247)
    poll_interval_s: float = Field(default=1.0, gt=0)
    timeout_s: float = Field(default=1.0, gt=0)
    offline_after: int = Field(default=3, ge=1, description="failed polls in a row before DDEATH")

    @model_validator(mode="after")
    def _has_register_map(self) -> "ModbusDeviceConfig":
        if not any(t.modbus for t in self.spec.telemetry):
            raise ValueError(f"{self.device_id}: device type {self.type} has no Modbus register map")
        return self


class OpcUaDeviceConfig(DeviceConfig):
    node_prefix: str = Field(default="", description="prepended to the string node ids of the type")


class OpcUaServerConfig(_Config):
    endpoint: str = Field(pattern=r"^opc\.tcp://")
    publishing_interval_ms: int = Field(default=500, ge=10)
    reconnect_s: float = Field(default=2.0, gt=0)
    devices: list[OpcUaDeviceConfig]


class EdgeConfig(_Config):
    group_id: str = Field(pattern=_ID)
    edge_node_id: str = Field(pattern=_ID)
    broker_url: str | None = Field(default=None, description="mqtt://host:port; unset ⇒ TRADELOOM_MQTT_URL")
    primary_host_id: str | None = Field(
        default=None, pattern=_ID, description="publish only while this host's Sparkplug STATE is online")
    spool_path: Path = Path("var/edge/spool.sqlite")
    modbus: list[ModbusDeviceConfig] = Field(default_factory=list)
    opcua: list[OpcUaServerConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_devices(self) -> "EdgeConfig":
        ids = [d.device_id for d in self.modbus] + [d.device_id for s in self.opcua for d in s.devices]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"device ids used twice: {', '.join(duplicates)}")
        return self


def load_edge_config(path: Path) -> EdgeConfig:
    """Read and validate an edge agent YAML file; raises pydantic.ValidationError or ValueError."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError(f"{path}: an edge agent configuration is a YAML mapping")
    return EdgeConfig.model_validate(document)
