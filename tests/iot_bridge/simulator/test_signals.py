"""Simulated signals stay inside what their registers hold, count up while running, and do raise alarms."""

import random

import pytest

from iot_bridge.device_types import load_device_types
from iot_bridge.edge.registers import encode_telemetry
from iot_bridge.simulator.signals import DeviceSignal


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
