"""Edge preprocessing: unit conversion, report-by-exception with deadbands, downsampling, heartbeats.

Scale and offset come with the register map (``ModbusRegister.to_engineering``); what is here works on
engineering values, whatever protocol they were read with. Everything is pure and clock-injected so the
rules are tested without I/O.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

Reading = int | float | bool | str

# Affine conversions (factor, then offset) from a device's native unit to the unit of its device type.
UNIT_CONVERSIONS: dict[str, tuple[float, float]] = {
    "degF->degC": (5 / 9, -32 * 5 / 9),
    "K->degC": (1.0, -273.15),
    "psi->bar": (0.0689475729, 0.0),
    "kPa->bar": (0.01, 0.0),
    "MPa->bar": (10.0, 0.0),
    "gpm->m3/h": (0.227124707, 0.0),
    "l/min->m3/h": (0.06, 0.0),
    "Wh->kWh": (0.001, 0.0),
    "W->kW": (0.001, 0.0),
    "in->mm": (25.4, 0.0),
}


def convert_unit(value: Reading, conversion: str) -> Reading:
    """Apply a named conversion from ``UNIT_CONVERSIONS`` to a numeric value (others pass unchanged)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    factor, offset = UNIT_CONVERSIONS[conversion]
    return value * factor + offset


@dataclass
class ReportFilter:
    """Decides which readings of one device are worth sending (report by exception).

    A value is reported when it moved more than its deadband since the last *reported* value (so a slow
    drift is not lost under the deadband), but not more often than ``min_interval_s`` per key
    (downsampling: readings in between are dropped, the first one after the interval goes out); every
    key is reported again after ``heartbeat_s`` even if unchanged, so the host can tell silence from a
    stuck value.
    """

    deadbands: Mapping[str, float] = field(default_factory=dict)
    min_interval_s: float = 0.0
    heartbeat_s: float = 300.0
    _reported: dict[str, tuple[Reading, float]] = field(default_factory=dict)

    def select(self, readings: Mapping[str, Reading], now: float) -> dict[str, Reading]:
        """The readings to send now, remembered as reported."""
        chosen = {key: value for key, value in readings.items() if self._worth_reporting(key, value, now)}
        for key, value in chosen.items():
            self._reported[key] = (value, now)
        return chosen

    def forget(self) -> None:
        """After a (re)birth the host has every current value: start comparing afresh."""
        self._reported.clear()

    def remember(self, readings: Mapping[str, Reading], now: float) -> None:
        """Values sent outside ``select`` (a birth certificate carries them all)."""
        for key, value in readings.items():
            self._reported[key] = (value, now)

    def _worth_reporting(self, key: str, value: Reading, now: float) -> bool:
        last = self._reported.get(key)
        if last is None:
            return True
        last_value, last_time = last
        if now - last_time >= self.heartbeat_s:
            return True
        if now - last_time < self.min_interval_s:
            return False
        return _moved(last_value, value, self.deadbands.get(key, 0.0))


def _moved(before: Reading, after: Reading, deadband: float) -> bool:
    numeric = (int, float)
    if isinstance(before, numeric) and isinstance(after, numeric) and not isinstance(after, bool):
        return abs(after - before) > deadband if deadband > 0 else after != before
    return after != before
