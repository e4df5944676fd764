"""Simulated Modbus PLCs: a pymodbus TCP server holding the registers of up to 247 devices (unit ids)."""

from collections.abc import Mapping, Sequence

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from iot_bridge.device_types import DeviceTypeSpec
from iot_bridge.edge.preprocess import Reading
from iot_bridge.edge.registers import encode_telemetry

REGISTERS_PER_TABLE = 256  # covers every map in the shipped device types (commands sit at 100+)
MAX_UNITS = 247
_WRITE_HOLDING, _WRITE_INPUT, _READ_HOLDING = 16, 4, 3


def _blank_device(unit: int) -> SimDevice:
    bits = [SimData(0, count=16, values=False, datatype=DataType.BITS)]
    return SimDevice(id=unit, simdata=(bits, bits, [SimData(0, count=REGISTERS_PER_TABLE, datatype=DataType.REGISTERS)],
                                       [SimData(0, count=REGISTERS_PER_TABLE, datatype=DataType.REGISTERS)]))


class ModbusPlcServer:
    """One TCP port, one unit id per simulated device; values are set in engineering units."""

    def __init__(self, port: int, devices: Mapping[int, DeviceTypeSpec], host: str = "127.0.0.1") -> None:
        if not devices or len(devices) > MAX_UNITS:
            raise ValueError(f"a Modbus server holds 1 to {MAX_UNITS} unit ids")
        self.port = port
        self.devices = dict(devices)
        self._server = ModbusTcpServer([_blank_device(unit) for unit in devices], address=(host, port))

    async def start(self) -> None:
        await self._server.serve_forever(background=True)  # returns once the port is bound

    async def stop(self) -> None:
        await self._server.shutdown()

    async def set_values(self, unit: int, values: Mapping[str, Reading]) -> None:
        """Put telemetry values (engineering units) into the unit's registers, as its PLC program would."""
        for (table, address), registers in encode_telemetry(self.devices[unit], values).items():
            function = _WRITE_INPUT if table == "input" else _WRITE_HOLDING
            await self._server.context.async_setValues(unit, function, address, registers)

    async def holding(self, unit: int, address: int, count: int = 1) -> Sequence[int]:
        """Holding registers as they are now (what a command wrote, for instance)."""
        values = await self._server.context.async_getValues(unit, _READ_HOLDING, address, count)
        assert isinstance(values, list)
        return [int(v) for v in values]
