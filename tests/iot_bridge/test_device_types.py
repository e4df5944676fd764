"""The shipped device types load and validate; broken definitions are refused with a reason."""

import pytest
from pydantic import ValidationError

from iot_bridge.device_types import (
    AlarmKind,
    ModbusDataType,
    ModbusRegister,
    ValueType,
    load_device_types,
    parse_device_types,
)

LISTED_IN_THE_ISSUE = {
    "cnc_lathe", "machining_centre", "injection_moulding_machine", "stamping_press", "laser_cutter",
    "welding_robot", "agv", "air_compressor", "chiller", "boiler", "energy_meter", "water_meter",
    "temperature_humidity_sensor", "vibration_sensor", "pressure_transmitter", "flow_meter", "plc", "conveyor",
    "packaging_machine", "extruder", "furnace", "spindle_monitor", "gas_detector",
    "coordinate_measuring_machine", "label_printer", "barcode_scanner_station", "dust_collector",
    "hydraulic_press", "cooling_tower", "ups",
}


def test_at_least_thirty_types_ship_including_every_one_the_issue_lists():
    types = load_device_types()
    assert len(types) >= 30
    assert set(types) >= LISTED_IN_THE_ISSUE


def test_defaults_fill_sparkplug_metric_names_and_opcua_node_ids():
    lathe = load_device_types()["cnc_lathe"]
    speed = lathe.telemetry_key("spindle_speed")
    feed = lathe.telemetry_key("feed_rate")
    assert speed is not None and feed is not None
    assert (speed.metric, speed.opcua) == ("Spindle/Speed", "ns=2;s=cnc_lathe.spindle_speed")
    assert feed.metric == "feed_rate"
    assert lathe.by_metric["Spindle/Speed"] is speed


def test_every_alarm_kind_is_used_somewhere():
    kinds = {rule.kind for spec in load_device_types().values() for rule in spec.alarms}
    assert kinds == set(AlarmKind)


def test_modbus_scaling_round_trips():
    register = ModbusRegister(addr=10, type=ModbusDataType.INT16, scale=0.1, offset=-40)
    assert register.to_raw(25.0) == 650
    assert register.to_engineering(650) == pytest.approx(25.0)
    assert list(ModbusRegister(addr=4, type=ModbusDataType.FLOAT32).registers) == [4, 5]


def test_command_parameters_are_checked():
    command = load_device_types()["cnc_lathe"].command("set_feed_override")
    assert command is not None
    assert command.check_params({"percent": 90}) == []
    assert command.check_params({"percent": 200}) == ["'percent' must be between 0.0 and 150.0"]
    assert command.check_params({"percent": "x", "extra": 1}) == ["unknown parameter 'extra'", "'percent' must be int"]


@pytest.mark.parametrize(("value_type", "value", "accepted"), [
    (ValueType.INT, 2**63 - 1, True), (ValueType.INT, 2**63, False), (ValueType.INT, -(2**63) - 1, False),
    (ValueType.DOUBLE, 10**308, True), (ValueType.DOUBLE, 10**309, False), (ValueType.DOUBLE, float("nan"), False),
    (ValueType.DOUBLE, float("-inf"), False), (ValueType.DOUBLE, True, False), (ValueType.STRING, "运行", True),
    (ValueType.STRING, "a\x00b", False), (ValueType.STRING, "\ud800", False), (ValueType.BOOL, 1, False),
])
def test_values_are_accepted_only_when_their_column_can_hold_them(value_type, value, accepted):
    assert value_type.accepts(value) is accepted


BROKEN = {
    "alarm on an unknown key": """
device_types:
  - {code: t, name: {en: T, zh: T}, category: c, telemetry: [{key: a, type: double}],
     alarms: [{code: r, kind: threshold, key: b, above: 1, severity: major}]}""",
    "overlapping registers": """
device_types:
  - {code: t, name: {en: T, zh: T}, category: c, telemetry: [
      {key: a, type: double, modbus: {addr: 0, type: float32}},
      {key: b, type: double, modbus: {addr: 1, type: uint16}}]}""",
    "threshold without a bound": """
device_types:
  - {code: t, name: {en: T, zh: T}, category: c, telemetry: [{key: a, type: double}],
     alarms: [{code: r, kind: threshold, key: a, severity: major}]}""",
    "duplicate type": """
device_types:
  - {code: t, name: {en: T, zh: T}, category: c, telemetry: [{key: a, type: double}]}
  - {code: t, name: {en: T, zh: T}, category: c, telemetry: [{key: a, type: double}]}""",
    "unknown field": """
device_types:
  - {code: t, name: {en: T, zh: T}, category: c, telemetry: [{key: a, type: double, colour: red}]}""",
}


@pytest.mark.parametrize("document", BROKEN.values(), ids=BROKEN.keys())
def test_broken_definitions_are_refused(document):
    with pytest.raises((ValidationError, ValueError)):
        parse_device_types(document)
