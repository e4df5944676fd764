"""Plausible machine signals from a device type alone: duty cycles, drift, noise, faults and counters.

Nominal values come from the type's alarm rules (a threshold at 80 °C means the machine normally runs
well below it) and are kept inside what the Modbus register can hold. A fault pushes one watched value
past its alarm limit and the machine into its last state (``down``/``fault``) for a while, so alarms
fire and clear; counters only grow while the machine runs.
"""

import math
import random
from dataclasses import dataclass, field

from iot_bridge.device_types import AlarmKind, DeviceTypeSpec, TelemetryKey, ValueType
from iot_bridge.edge.preprocess import Reading
from iot_bridge.edge.registers import RAW_LIMITS

RUNNING = "run"


@dataclass(frozen=True, slots=True)
class _Analog:
    nominal: float
    amplitude: float
    fault_value: float | None
    low: float
    high: float


def _analog(spec: DeviceTypeSpec, key: TelemetryKey) -> _Analog:
    nominal, amplitude, fault = 50.0, 5.0, None
    for rule in spec.alarms:
        if rule.key != key.key:
            continue
        if rule.kind is AlarmKind.RANGE and rule.min is not None and rule.max is not None:
            nominal, amplitude, fault = (rule.min + rule.max) / 2, (rule.max - rule.min) / 8, rule.max * 1.1
        elif rule.above is not None:
            nominal, amplitude, fault = rule.above * 0.6, rule.above * 0.05, rule.above * 1.15 + rule.hysteresis
        elif rule.below is not None:
            nominal = rule.below * 3 if rule.below > 0 else rule.below + 20
            amplitude, fault = abs(nominal) * 0.05, rule.below - abs(rule.below) * 0.5 - rule.hysteresis - 1
    for rule in spec.alarms:  # a normal swing must not trip a rate-of-change rule (≤ 1/6 of it per step)
        if rule.key == key.key and rule.kind is AlarmKind.RATE and rule.max_rate is not None:
            amplitude = min(amplitude, rule.max_rate / 2)
    low, high = -1e9, 1e9
    if key.modbus is not None:
        raw_low, raw_high = RAW_LIMITS[key.modbus.type]
        ends = sorted((key.modbus.to_engineering(raw_low), key.modbus.to_engineering(raw_high)))
        low, high = ends[0], ends[1]
    # the register bounds what the machine can show: keep nominal, swing and fault inside it
    nominal = min(max(nominal, low), high)
    amplitude = min(amplitude, (high - low) / 8)
    return _Analog(nominal, max(amplitude, 0.001), fault, low, high)


@dataclass
class DeviceSignal:
    """One device's evolving telemetry; ``step`` advances it by one reporting period."""

    spec: DeviceTypeSpec
    rng: random.Random
    fault_probability: float = 0.002  # per step
    period_steps: int = 60  # length of one duty cycle
    _step: int = 0
    _fault_left: int = 0
    _fault_key: str | None = None
    _values: dict[str, Reading] = field(default_factory=dict)
    _analogs: dict[str, _Analog] = field(default_factory=dict)
    _drift: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._phase = self.rng.random() * 2 * math.pi
        for key in self.spec.telemetry:
            if key.type is ValueType.DOUBLE:
                self._analogs[key.key] = _analog(self.spec, key)
                self._drift[key.key] = 0.0
        self._values = self._initial()

    def _initial(self) -> dict[str, Reading]:
        values: dict[str, Reading] = {}
        for key in self.spec.telemetry:
            if key.enum:
                values[key.key] = RUNNING if RUNNING in key.enum else key.enum[0]
            elif key.type is ValueType.INT:
                values[key.key] = 0 if _is_counter(key) else self.rng.randint(1, 20)
            elif key.type is ValueType.BOOL:
                values[key.key] = False
            elif key.type is ValueType.STRING:
                values[key.key] = f"{self.spec.code}-v1"
            else:
                values[key.key] = _clamp(self._analogs[key.key].nominal, self._analogs[key.key])
        return values

    @property
    def values(self) -> dict[str, Reading]:
        return dict(self._values)

    @property
    def faulted(self) -> bool:
        return self._fault_left > 0

    def step(self) -> dict[str, Reading]:
        """Advance one period; returns every telemetry value (the edge filters what changed)."""
        self._step += 1
        self._advance_fault()
        for key in self.spec.telemetry:
            self._values[key.key] = self._next(key)
        return dict(self._values)

    def _advance_fault(self) -> None:
        if self._fault_left > 0:
            self._fault_left -= 1
            return
        self._fault_key = None
        if self.rng.random() < self.fault_probability:
            self._fault_left = self.rng.randint(5, 30)
            watched = [k for k, a in self._analogs.items() if a.fault_value is not None]
            self._fault_key = self.rng.choice(watched) if watched else None

    def _next(self, key: TelemetryKey) -> Reading:
        value = self._values[key.key]
        if key.enum:
            return self._next_state(key.enum)
        if key.type is ValueType.INT:
            assert isinstance(value, int)
            if _is_counter(key):
                running = self._values.get("state", RUNNING) == RUNNING
                return value + (1 if running and self.rng.random() < 0.8 else 0)
            return max(0, value + self.rng.choice((-1, 0, 0, 1)))
        if key.type is ValueType.DOUBLE:
            return self._next_analog(key.key)
        return value

    def _next_state(self, states: tuple[str, ...]) -> str:
        if self.faulted:
            return states[-1]
        roll = self.rng.random()
        if roll < 0.97:
            return RUNNING if RUNNING in states else states[0]
        return self.rng.choice(states[:-1] if len(states) > 1 else states)

    def _next_analog(self, key: str) -> float:
        analog = self._analogs[key]
        if key == self._fault_key and analog.fault_value is not None:
            return _clamp(analog.fault_value, analog)
        self._drift[key] += self.rng.gauss(0, analog.amplitude * 0.01)
        self._drift[key] = max(-analog.amplitude, min(analog.amplitude, self._drift[key]))
        cycle = math.sin(2 * math.pi * self._step / self.period_steps + self._phase)
        noise = self.rng.gauss(0, analog.amplitude * 0.05)
        return _clamp(analog.nominal + analog.amplitude * 0.5 * cycle + self._drift[key] + noise, analog)


def _clamp(value: float, analog: _Analog) -> float:
    return round(min(max(value, analog.low), analog.high), 3)


def _is_counter(key: TelemetryKey) -> bool:
    return key.unit == "pcs" or key.key.endswith("_count")
