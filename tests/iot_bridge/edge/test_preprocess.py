"""Edge preprocessing rules and the Modbus register encoding, without I/O."""

import pytest
from pydantic import ValidationError

from iot_bridge.device_types import load_device_types
from iot_bridge.edge.config import EdgeConfig
from iot_bridge.edge.preprocess import ReportFilter, convert_unit
from iot_bridge.edge.registers import decode_telemetry, encode_telemetry, register_span


class TestReportFilter:
    def test_reports_by_exception_beyond_the_deadband_measured_from_the_last_report(self):
        rules = ReportFilter(deadbands={"temp": 0.5})
        assert rules.select({"temp": 20.0, "state": "run"}, now=0) == {"temp": 20.0, "state": "run"}
        assert rules.select({"temp": 20.4, "state": "run"}, now=1) == {}
        # a slow drift adds up against the last *reported* value
        assert rules.select({"temp": 20.6, "state": "idle"}, now=2) == {"temp": 20.6, "state": "idle"}

    def test_downsamples_to_one_report_per_interval(self):
        rules = ReportFilter(min_interval_s=10)
        assert rules.select({"speed": 1}, now=0) == {"speed": 1}
        assert rules.select({"speed": 2}, now=5) == {}
        assert rules.select({"speed": 3}, now=10) == {"speed": 3}

    def test_heartbeat_reports_an_unchanged_value_again(self):
        rules = ReportFilter(heartbeat_s=60)
        rules.select({"level": 7}, now=0)
        assert rules.select({"level": 7}, now=59) == {}
        assert rules.select({"level": 7}, now=60) == {"level": 7}

    def test_a_birth_resets_the_comparison(self):
        rules = ReportFilter()
        rules.remember({"level": 7}, now=0)
        assert rules.select({"level": 7}, now=1) == {}
        rules.forget()
        assert rules.select({"level": 7}, now=2) == {"level": 7}


def test_unit_conversions():
    assert convert_unit(212.0, "degF->degC") == pytest.approx(100.0)
    assert convert_unit(100, "psi->bar") == pytest.approx(6.89475729)
    assert convert_unit("run", "psi->bar") == "run"


@pytest.mark.parametrize("code", sorted(load_device_types()))
def test_every_register_map_round_trips(code):
    # given values of every mapped key that fit their registers
    spec = load_device_types()[code]
    values: dict[str, object] = {}
    for key in spec.telemetry:
        if key.modbus is None:
            continue
        values[key.key] = key.enum[-1] if key.enum else (7 if key.type.value == "int" else round(
            2 * key.modbus.scale + key.modbus.offset, 6))
    # when they are written as a PLC holds them and read back in one block per table
    registers: dict[str, list[int]] = {table: [0] * 256 for table in ("holding", "input")}
    for (table, address), words in encode_telemetry(spec, values).items():
        registers[table][address:address + len(words)] = words
    tables = {table: (span.start, registers[table][span.start:span.stop]) for table in ("holding", "input")
              if (span := register_span(spec, table)) is not None}
    # then every value comes back
    decoded = decode_telemetry(spec, tables)
    assert decoded.keys() == values.keys()
    for key, value in values.items():
        assert decoded[key] == (value if isinstance(value, str) else pytest.approx(value)), key


def test_config_refuses_unknown_types_keys_and_conversions(tmp_path):
    base = {"group_id": "g", "edge_node_id": "e", "spool_path": tmp_path / "s.sqlite"}
    modbus = {"device_id": "d", "type": "cnc_lathe", "host": "127.0.0.1"}
    with pytest.raises(ValidationError, match="unknown device type"):
        EdgeConfig.model_validate({**base, "modbus": [{**modbus, "type": "toaster"}]})
    with pytest.raises(ValidationError, match="no telemetry key 'colour'"):
        EdgeConfig.model_validate({**base, "modbus": [{**modbus, "deadbands": {"colour": 1}}]})
    with pytest.raises(ValidationError, match="unknown unit conversion"):
        EdgeConfig.model_validate({**base, "modbus": [{**modbus, "convert": {"spindle_temp": "C->K"}}]})
    with pytest.raises(ValidationError, match="used twice"):
        EdgeConfig.model_validate({**base, "modbus": [modbus, {**modbus, "unit": 2}]})
    with pytest.raises(ValidationError, match="group_id"):
        EdgeConfig.model_validate({**base, "group_id": "a/b"})
