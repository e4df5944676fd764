"""Simulated signals stay inside what their registers hold, count up while running, raise alarms when faulted
and only then."""

import datetime as dt
import random
import uuid

import pytest

from iot_bridge.alarm_rules import AlarmEvaluator
from iot_bridge.device_types import load_device_types
from iot_bridge.edge.registers import encode_telemetry
from iot_bridge.simulator.signals import DeviceSignal

T0 = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("code", sorted(load_device_types()))
def test_every_type_fits_its_registers_and_counters_only_grow(code):
    spec = load_device_types()[code]
    signal = DeviceSignal(spec, random.Random(code), fault_probability=0.2)
    counters = [k.key for k in spec.telemetry if k.key.endswith("_count")]
    previous = signal.values
    encode_telemetry(spec, previous)  # raises if a value does not fit its register
    for _ in range(300):
        values = signal.step()
        encode_telemetry(spec, values)
        assert all(values[key] >= previous[key] for key in counters)
        previous = values


def test_a_fault_pushes_a_watched_value_past_its_alarm_limit():
    spec = load_device_types()["cnc_lathe"]
    signal = DeviceSignal(spec, random.Random(7), fault_probability=0.5)
    temperatures = [signal.step()["spindle_temp"] for _ in range(200)]
    assert max(temperatures) > 80 > min(temperatures)  # the lathe's spindle_overtemp threshold


@pytest.mark.parametrize("period_s", [1.0, 0.2])
def test_without_faults_no_type_trips_an_alarm_rule(period_s):
    """A healthy machine's normal swing and noise stay inside every rule, rate-of-change ones included, at one
    report a second and at five (a flapping rule is noise on the alarm console and load on the bridge)."""
    tripped = set()
    for code, spec in load_device_types().items():
        evaluator, device = AlarmEvaluator(), uuid.uuid4()
        signal = DeviceSignal(spec, random.Random(code), fault_probability=0.0)
        for step in range(300):
            at = T0 + dt.timedelta(seconds=step * period_s)
            for key, value in signal.step().items():
                tripped |= {t.rule.code for t in evaluator.observe(device, spec, key, value, at)}
    assert tripped == set()
