"""Alarm rule evaluation: pure state machines over readings, timed by the readings' own timestamps.

``AlarmEvaluator`` remembers which (device, rule) pairs are active, when a duration condition started and
each key's previous reading (for rates); it returns the raise/clear transitions the caller stores.
Time comes from the messages (and from the caller's clock for offline checks), so results do not depend
on how fast messages are processed.
"""

import datetime as dt
import uuid
from dataclasses import dataclass

from iot_bridge.device_types import AlarmKind, AlarmRuleSpec, DeviceTypeSpec

Pair = tuple[uuid.UUID, str]


@dataclass(frozen=True)
class Transition:
    device_id: uuid.UUID
    rule: AlarmRuleSpec
    raised: bool  # False: cleared
    value: float | None
    at: dt.datetime

    @property
    def message(self) -> str:
        return describe(self.rule, self.value)


def describe(rule: AlarmRuleSpec, value: float | None) -> str:
    """A one-line reason stored with the alarm (pages show the rule code translated beside it)."""
    match rule.kind:
        case AlarmKind.THRESHOLD:
            limit = f"above {rule.above:g}" if rule.above is not None else f"below {rule.below:g}"
        case AlarmKind.RANGE:
            limit = f"outside {rule.min:g}…{rule.max:g}"
        case AlarmKind.RATE:
            limit = f"changing faster than {rule.max_rate:g}/s"
        case AlarmKind.DURATION:
            limit = f"beyond its limit for {rule.for_seconds:g} s"
        case AlarmKind.OFFLINE:
            limit = f"silent for more than {rule.after_seconds:g} s"
    shown = "" if value is None else f" (value {value:g})"
    return f"{rule.code}: {rule.key or 'device'} {limit}{shown}"


class AlarmEvaluator:
    def __init__(self) -> None:
        self.active: set[Pair] = set()
        self._condition_since: dict[Pair, dt.datetime] = {}
        self._previous: dict[tuple[uuid.UUID, str], tuple[dt.datetime, float]] = {}

    def observe(
        self, device_id: uuid.UUID, spec: DeviceTypeSpec, key: str, value: object, at: dt.datetime
    ) -> list[Transition]:
        """Feed one reading; returns the alarms it raises or clears. Offline alarms are ``seen``'s, once per message."""
        rules = spec.alarms_on(key)
        if not rules or isinstance(value, bool) or not isinstance(value, int | float):
            return []
        reading = float(value)
        previous = self._previous.get((device_id, key))
        self._previous[device_id, key] = (at, reading)
        transitions: list[Transition] = []
        for rule in rules:
            state = self._state(device_id, rule, reading, previous, at)
            if state is not None:
                transitions.extend(self._move(device_id, rule, state, reading, at))
        return transitions

    def seen(self, device_id: uuid.UUID, spec: DeviceTypeSpec, at: dt.datetime) -> list[Transition]:
        """The device spoke: its offline alarms clear."""
        transitions: list[Transition] = []
        for rule in spec.alarms:
            if rule.kind is AlarmKind.OFFLINE:
                transitions.extend(self._move(device_id, rule, False, None, at))
        return transitions

    def check_offline(
        self, device_id: uuid.UUID, spec: DeviceTypeSpec, last_seen: dt.datetime, now: dt.datetime
    ) -> list[Transition]:
        """Raise offline alarms of a device silent for longer than the rules allow."""
        transitions: list[Transition] = []
        silent = (now - last_seen).total_seconds()
        for rule in spec.alarms:
            if rule.kind is AlarmKind.OFFLINE and rule.after_seconds is not None and silent > rule.after_seconds:
                transitions.extend(self._move(device_id, rule, True, silent, now))
        return transitions

    def _state(
        self, device_id: uuid.UUID, rule: AlarmRuleSpec, value: float,
        previous: tuple[dt.datetime, float] | None, at: dt.datetime,
    ) -> bool | None:
        """True: alarm condition; False: clear condition; None: in the hysteresis band (no change)."""
        active = (device_id, rule.code) in self.active
        if rule.kind is AlarmKind.THRESHOLD:
            return _beyond(rule, value, active)
        if rule.kind is AlarmKind.RANGE:
            assert rule.min is not None and rule.max is not None
            if value < rule.min or value > rule.max:
                return True
            inside = rule.min + rule.hysteresis <= value <= rule.max - rule.hysteresis
            return False if inside else None
        if rule.kind is AlarmKind.RATE:
            assert rule.max_rate is not None
            if previous is None or at <= previous[0]:
                return None
            rate = abs(value - previous[1]) / (at - previous[0]).total_seconds()
            if rate > rule.max_rate:
                return True
            return False if rate <= rule.max_rate - rule.hysteresis else None
        if rule.kind is AlarmKind.DURATION:
            return self._held(device_id, rule, _beyond(rule, value, active), at)
        return None

    def _held(self, device_id: uuid.UUID, rule: AlarmRuleSpec, beyond: bool | None, at: dt.datetime) -> bool | None:
        pair = (device_id, rule.code)
        if beyond is False:
            self._condition_since.pop(pair, None)
            return False
        if beyond is None:
            return None
        since = self._condition_since.setdefault(pair, at)
        assert rule.for_seconds is not None
        return True if (at - since).total_seconds() >= rule.for_seconds else None

    def _move(
        self, device_id: uuid.UUID, rule: AlarmRuleSpec, alarm: bool, value: float | None, at: dt.datetime
    ) -> list[Transition]:
        pair = (device_id, rule.code)
        if alarm == (pair in self.active):
            return []
        if alarm:
            self.active.add(pair)
        else:
            self.active.discard(pair)
        return [Transition(device_id, rule, alarm, value, at)]


def _beyond(rule: AlarmRuleSpec, value: float, active: bool) -> bool | None:
    """Past an above/below limit (True), back inside by the hysteresis (False), or in between (None)."""
    if rule.above is not None:
        if value > rule.above:
            return True
        return False if value <= rule.above - rule.hysteresis or not active else None
    assert rule.below is not None
    if value < rule.below:
        return True
    return False if value >= rule.below + rule.hysteresis or not active else None
