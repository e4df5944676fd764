"""Modbus register maps: engineering values to and from 16-bit registers (big-endian word order).

Shared by the edge agent's poller (reading, command writes) and the simulator's Modbus PLCs (writing the
values a real PLC would hold), so both sides agree on one encoding: ``raw * scale + offset``, 32-bit
values over two registers, enum states as the index of the state.
"""

from collections.abc import Mapping, Sequence

from pymodbus.client.mixin import ModbusClientMixin

from iot_bridge.device_types import DeviceTypeSpec, ModbusDataType, ModbusRegister, TelemetryKey, ValueType
from iot_bridge.edge.preprocess import Reading

_DATATYPES = {
    ModbusDataType.INT16: ModbusClientMixin.DATATYPE.INT16,
    ModbusDataType.UINT16: ModbusClientMixin.DATATYPE.UINT16,
    ModbusDataType.INT32: ModbusClientMixin.DATATYPE.INT32,
    ModbusDataType.UINT32: ModbusClientMixin.DATATYPE.UINT32,
    ModbusDataType.FLOAT32: ModbusClientMixin.DATATYPE.FLOAT32,
}


# What each register type can hold (raw); a PLC saturates at these rather than wrapping.
RAW_LIMITS = {ModbusDataType.INT16: (-32768, 32767), ModbusDataType.UINT16: (0, 65535),
              ModbusDataType.INT32: (-(2**31), 2**31 - 1), ModbusDataType.UINT32: (0, 2**32 - 1),
              ModbusDataType.FLOAT32: (-3.4e38, 3.4e38)}


def register_span(spec: DeviceTypeSpec, table: str) -> range | None:
    """The addresses one read must cover to get every telemetry register of ``table`` (None: none mapped)."""
    addresses = [a for t in spec.telemetry if t.modbus and t.modbus.table == table for a in t.modbus.registers]
    return range(min(addresses), max(addresses) + 1) if addresses else None


def decode_telemetry(spec: DeviceTypeSpec, tables: Mapping[str, tuple[int, Sequence[int]]]) -> dict[str, Reading]:
    """Telemetry values from register blocks read per table (``table → (first address, registers)``)."""
    readings: dict[str, Reading] = {}
    for key in spec.telemetry:
        if key.modbus is None or key.modbus.table not in tables:
            continue
        start, block = tables[key.modbus.table]
        offset = key.modbus.addr - start
        raw = ModbusClientMixin.convert_from_registers(
            list(block[offset:offset + key.modbus.type.register_count]), _DATATYPES[key.modbus.type])
        assert isinstance(raw, int | float)
        readings[key.key] = _engineering(key, key.modbus, raw)
    return readings


def _engineering(key: TelemetryKey, register: ModbusRegister, raw: int | float) -> Reading:
    if key.enum is not None:
        index = int(raw)
        return key.enum[index] if 0 <= index < len(key.enum) else f"unknown({index})"
    value = register.to_engineering(raw)
    if key.type is ValueType.BOOL:
        return bool(raw)
    if key.type is ValueType.INT:
        return round(value)
    return round(value, 6)  # float32 and scaled integers carry no more precision than that


def encode_value(key: TelemetryKey | None, register: ModbusRegister, value: Reading) -> list[int]:
    """The registers holding ``value`` (an enum state, a boolean or a number in engineering units)."""
    if key is not None and key.enum is not None and isinstance(value, str):
        raw: int | float = key.enum.index(value)
    elif isinstance(value, bool):
        raw = int(value)
    elif isinstance(value, int | float):
        raw = register.to_raw(float(value))
    else:
        raise ValueError(f"cannot write {value!r} to a {register.type.value} register")
    low, high = RAW_LIMITS[register.type]
    if not low <= raw <= high:
        raise ValueError(f"{value!r} does not fit a {register.type.value} register")
    return ModbusClientMixin.convert_to_registers(raw, _DATATYPES[register.type])


def encode_telemetry(spec: DeviceTypeSpec, values: Mapping[str, Reading]) -> dict[tuple[str, int], list[int]]:
    """``(table, address) → registers`` for the given telemetry values (what a simulated PLC holds)."""
    blocks: dict[tuple[str, int], list[int]] = {}
    for key in spec.telemetry:
        if key.modbus is not None and key.key in values:
            blocks[(key.modbus.table, key.modbus.addr)] = encode_value(key, key.modbus, values[key.key])
    return blocks
