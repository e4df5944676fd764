"""Device types (profiles) shipped as data: ``iot_bridge/data/device_types.yaml``, validated here.

The host application uses them for typing telemetry, alarm rules and commands; the edge agent and the
simulator use the protocol mapping (Sparkplug metric names, Modbus register maps, OPC UA node ids).
After loading, every telemetry key has its Sparkplug metric name and OPC UA node id filled in.
"""

import sys
from enum import StrEnum
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from iot_bridge.sparkplug import INT64_MAX, DataType

DEVICE_TYPES_FILE = Path(__file__).parent / "data" / "device_types.yaml"
_CODE = r"^[a-z][a-z0-9_]*$"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def storable_text(value: str) -> str:
    """``value`` as PostgreSQL's text and JSON can hold it: NUL characters dropped, lone surrogates (which
    UTF-8 cannot encode; JSON's ``\\ud800`` decodes to one) replaced by ``?``."""
    return value.encode("utf-8", "replace").decode().replace("\x00", "")


class ValueType(StrEnum):
    DOUBLE = "double"
    INT = "int"
    BOOL = "bool"
    STRING = "string"

    @property
    def sparkplug_datatype(self) -> DataType:
        return _SPARKPLUG_TYPES[self]

    def accepts(self, value: object) -> bool:
        """Whether a decoded JSON/Sparkplug value has this type (ints are accepted as doubles).

        Values must fit their column: an int in 64 bits, a double finite (JSON's ``NaN`` and ``Infinity``
        and integers past a double's range are refused, not stored or compared with alarm thresholds), text
        without NUL characters or lone surrogates (PostgreSQL's text and JSON hold neither)."""
        if self is ValueType.BOOL:
            return isinstance(value, bool)
        if isinstance(value, bool):
            return False
        if self is ValueType.INT:
            return isinstance(value, int) and -INT64_MAX - 1 <= value <= INT64_MAX
        if self is ValueType.DOUBLE:
            return isinstance(value, int | float) and -sys.float_info.max <= value <= sys.float_info.max
        return isinstance(value, str) and storable_text(value) == value


_SPARKPLUG_TYPES = {
    ValueType.DOUBLE: DataType.DOUBLE, ValueType.INT: DataType.INT64,
    ValueType.BOOL: DataType.BOOLEAN, ValueType.STRING: DataType.STRING,
}


class ModbusDataType(StrEnum):
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    FLOAT32 = "float32"

    @property
    def register_count(self) -> int:
        return 1 if self in (ModbusDataType.INT16, ModbusDataType.UINT16) else 2


class ModbusRegister(_Spec):
    """Where a value lives in a Modbus device: engineering value = raw * scale + offset."""

    addr: int = Field(ge=0, le=65534)
    type: ModbusDataType
    scale: float = 1.0
    offset: float = 0.0
    table: Literal["holding", "input"] = "holding"

    @property
    def registers(self) -> range:
        return range(self.addr, self.addr + self.type.register_count)

    def to_engineering(self, raw: int | float) -> float:
        return raw * self.scale + self.offset

    def to_raw(self, value: float) -> int | float:
        raw = (value - self.offset) / self.scale
        return raw if self.type is ModbusDataType.FLOAT32 else round(raw)


class TelemetryKey(_Spec):
    key: str = Field(pattern=_CODE)
    type: ValueType
    unit: str | None = None
    enum: tuple[str, ...] | None = None  # states: over Modbus the index of the state is sent
    metric: str = ""  # Sparkplug metric name; default: the key
    modbus: ModbusRegister | None = None
    opcua: str = ""  # OPC UA node id; default: ns=2;s=<type code>.<key>


class SetBy(_Spec):
    """The command (and its parameter) that applies a desired attribute's value on the device."""

    command: str
    param: str


class AttributeSpec(_Spec):
    key: str = Field(pattern=_CODE)
    type: ValueType
    access: Literal["reported", "desired"]
    unit: str | None = None
    set_by: SetBy | None = None


class CommandParam(_Spec):
    name: str = Field(pattern=_CODE)
    type: ValueType
    min: float | None = None
    max: float | None = None

    def within_bounds(self, value: Any) -> bool:
        too_low = self.min is not None and value < self.min
        too_high = self.max is not None and value > self.max
        return not (too_low or too_high)


class CommandSpec(_Spec):
    name: str = Field(pattern=_CODE)
    params: tuple[CommandParam, ...] = ()
    modbus: ModbusRegister | None = None  # register written with the (single) parameter's value
    opcua: str = ""  # node written; default: ns=2;s=<type code>.cmd.<name>

    def check_params(self, params: dict[str, Any]) -> list[str]:
        """Problems with ``params`` for this command (empty when they are valid)."""
        expected = {p.name: p for p in self.params}
        problems = [f"unknown parameter {name!r}" for name in params if name not in expected]
        for name, spec in expected.items():
            if name not in params:
                problems.append(f"missing parameter {name!r}")
            elif not spec.type.accepts(params[name]):
                problems.append(f"{name!r} must be {spec.type.value}")
            elif not spec.within_bounds(params[name]):
                problems.append(f"{name!r} must be between {spec.min} and {spec.max}")
        return problems


class AlarmKind(StrEnum):
    THRESHOLD = "threshold"
    RANGE = "range"
    RATE = "rate"
    DURATION = "duration"
    OFFLINE = "offline"


class Severity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"


class AlarmRuleSpec(_Spec):
    """One alarm rule; which fields apply depends on ``kind`` (checked below)."""

    code: str = Field(pattern=_CODE)
    kind: AlarmKind
    severity: Severity
    key: str | None = None
    above: float | None = None
    below: float | None = None
    hysteresis: float = Field(default=0.0, ge=0)
    min: float | None = None
    max: float | None = None
    max_rate: float | None = Field(default=None, gt=0)  # per second
    for_seconds: float | None = Field(default=None, gt=0)
    after_seconds: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> "AlarmRuleSpec":
        needs: dict[AlarmKind, tuple[str, ...]] = {
            AlarmKind.THRESHOLD: ("key",), AlarmKind.RANGE: ("key", "min", "max"),
            AlarmKind.RATE: ("key", "max_rate"), AlarmKind.DURATION: ("key", "for_seconds"),
            AlarmKind.OFFLINE: ("after_seconds",),
        }
        missing = [name for name in needs[self.kind] if getattr(self, name) is None]
        if missing:
            raise ValueError(f"{self.kind.value} rule {self.code!r} needs {', '.join(missing)}")
        if self.kind in (AlarmKind.THRESHOLD, AlarmKind.DURATION) and (self.above is None) == (self.below is None):
            raise ValueError(f"rule {self.code!r} needs exactly one of above/below")
        return self


class ProductionMapping(_Spec):
    good_count: str
    state: str
    deviation: str | None = None  # a measuring device's (CMM) deviation of the last part from nominal
    tolerance: float | None = Field(default=None, gt=0)  # |deviation| above it: the part is out of tolerance


class LocalizedName(_Spec):
    en: str
    zh: str


class DeviceTypeSpec(_Spec):
    code: str = Field(pattern=_CODE)
    name: LocalizedName
    category: str
    telemetry: tuple[TelemetryKey, ...]
    attributes: tuple[AttributeSpec, ...] = ()
    commands: tuple[CommandSpec, ...] = ()
    alarms: tuple[AlarmRuleSpec, ...] = ()
    production: ProductionMapping | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "DeviceTypeSpec":
        keys = [t.key for t in self.telemetry]
        _unique(keys, f"{self.code}: telemetry key")
        _unique([t.metric for t in self.telemetry], f"{self.code}: Sparkplug metric")
        _unique([a.key for a in self.attributes], f"{self.code}: attribute")
        _unique([c.name for c in self.commands], f"{self.code}: command")
        _unique([r.code for r in self.alarms], f"{self.code}: alarm rule")
        for rule in self.alarms:
            if rule.key is not None and rule.key not in keys:
                raise ValueError(f"{self.code}: alarm rule {rule.code!r} watches unknown key {rule.key!r}")
        if self.production and not {self.production.good_count, self.production.state} <= set(keys):
            raise ValueError(f"{self.code}: production mapping names unknown telemetry keys")
        if self.production and (self.production.deviation is None) != (self.production.tolerance is None):
            raise ValueError(f"{self.code}: production deviation and tolerance go together")
        if self.production and self.production.deviation not in (None, *keys):
            raise ValueError(f"{self.code}: production deviation names an unknown telemetry key")
        for attribute in self.attributes:
            setter = self.command(attribute.set_by.command) if attribute.set_by else None
            if attribute.set_by and (setter is None or attribute.set_by.param not in {p.name for p in setter.params}):
                raise ValueError(f"{self.code}: attribute {attribute.key!r} is set by an unknown command or parameter")
        self._check_register_overlap()
        return self

    def _check_register_overlap(self) -> None:
        used: dict[tuple[str, int], str] = {}
        mapped = [(t.key, t.modbus) for t in self.telemetry] + [(f"cmd.{c.name}", c.modbus) for c in self.commands]
        for name, register in mapped:
            for address in register.registers if register else ():
                owner = used.setdefault((register.table, address), name)  # type: ignore[union-attr]
                if owner != name:
                    raise ValueError(f"{self.code}: Modbus register {address} used by {owner} and {name}")

    def telemetry_key(self, key: str) -> TelemetryKey | None:
        return self._by_key.get(key)

    @cached_property
    def _by_key(self) -> dict[str, TelemetryKey]:
        return {t.key: t for t in self.telemetry}

    @cached_property
    def by_metric(self) -> dict[str, TelemetryKey]:
        """Sparkplug metric name → telemetry key (looked up per message: built once per type)."""
        return {t.metric: t for t in self.telemetry}

    def alarms_on(self, key: str) -> tuple[AlarmRuleSpec, ...]:
        """The alarm rules watching a telemetry key (none for most keys)."""
        return self._alarms_by_key.get(key, ())

    @cached_property
    def _alarms_by_key(self) -> dict[str, tuple[AlarmRuleSpec, ...]]:
        return {key: tuple(r for r in self.alarms if r.key == key) for key in {r.key for r in self.alarms} if key}

    def command(self, name: str) -> CommandSpec | None:
        return next((c for c in self.commands if c.name == name), None)


def _unique(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{what} {name!r} appears twice")
        seen.add(name)


class _DeviceTypesFile(_Spec):
    model_config = ConfigDict(extra="ignore", frozen=True)  # top-level YAML anchors are not types
    device_types: tuple[DeviceTypeSpec, ...]


def _with_defaults(raw_type: dict[str, Any]) -> dict[str, Any]:
    """Fill the default Sparkplug metric names and OPC UA node ids (the YAML states only exceptions)."""
    code = raw_type.get("code", "")
    telemetry = [
        {**t, "metric": t.get("metric") or t.get("key"), "opcua": t.get("opcua") or f"ns=2;s={code}.{t.get('key')}"}
        for t in raw_type.get("telemetry", [])
    ]
    commands = [
        {**c, "opcua": c.get("opcua") or f"ns=2;s={code}.cmd.{c.get('name')}"} for c in raw_type.get("commands", [])
    ]
    return {**raw_type, "telemetry": telemetry, "commands": commands}


def parse_device_types(text: str) -> dict[str, DeviceTypeSpec]:
    """Validate a device-types YAML document; raises pydantic.ValidationError or ValueError."""
    document = yaml.safe_load(text)
    if not isinstance(document, dict) or not isinstance(document.get("device_types"), list):
        raise ValueError("a device types file has a top-level `device_types:` list")
    parsed = _DeviceTypesFile.model_validate(
        {"device_types": [_with_defaults(t) if isinstance(t, dict) else t for t in document["device_types"]]}
    )
    _unique([t.code for t in parsed.device_types], "device type")
    return {t.code: t for t in parsed.device_types}


@cache
def load_device_types(path: Path = DEVICE_TYPES_FILE) -> dict[str, DeviceTypeSpec]:
    """The shipped device types by code (read and validated once per process)."""
    return parse_device_types(path.read_text(encoding="utf-8"))
