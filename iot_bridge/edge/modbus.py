"""Modbus TCP devices: a poller per device, one client (and one request at a time) per host and port."""

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from iot_bridge.device_types import CommandSpec
from iot_bridge.edge.config import ModbusDeviceConfig
from iot_bridge.edge.edge_device import CommandFailed
from iot_bridge.edge.node import SparkplugEdgeNode, now_ms
from iot_bridge.edge.preprocess import Reading, convert_unit
from iot_bridge.edge.registers import decode_telemetry, encode_value, register_span
from iot_bridge.running import reraise_if_cancelling

log = logging.getLogger(__name__)


class DeviceUnavailable(Exception):
    """The device did not answer, or answered with a Modbus exception."""


class ModbusConnection:
    """One TCP connection to a Modbus server (a gateway may carry up to 247 unit ids), requests in turn."""

    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        self._client = AsyncModbusTcpClient(host, port=port, timeout=timeout_s, retries=0)
        self._lock = asyncio.Lock()

    async def read(self, unit: int, table: str, span: range) -> list[int]:
        async with self._lock:
            await self._ensure_connected()
            reader = self._client.read_input_registers if table == "input" else self._client.read_holding_registers
            response = await self._call(reader(span.start, count=len(span), device_id=unit))
        return list(response.registers)

    async def write(self, unit: int, address: int, registers: Sequence[int]) -> None:
        async with self._lock:
            await self._ensure_connected()
            await self._call(self._client.write_registers(address, list(registers), device_id=unit))

    async def _ensure_connected(self) -> None:
        if not self._client.connected and not await self._client.connect():
            raise DeviceUnavailable("no TCP connection")

    async def _call(self, request: Any) -> Any:
        try:
            response = await request
        except (TimeoutError, ModbusException, OSError) as exc:
            # A late answer would be taken for the next request's: start over on a fresh connection.
            self._client.close()
            raise DeviceUnavailable(str(exc)) from exc
        if response.isError():
            raise DeviceUnavailable(f"Modbus exception {response}")
        return response

    def close(self) -> None:
        self._client.close()


class ModbusPoller:
    """Reads a device's register map every poll interval and reports through the edge node.

    ``offline_after`` failed polls in a row make the device offline (DDEATH); the next good poll brings it
    back (DBIRTH with its current values).
    """

    def __init__(self, config: ModbusDeviceConfig, connection: ModbusConnection, node: SparkplugEdgeNode) -> None:
        self.config = config
        self._connection = connection
        self._node = node
        self._filter = config.report_filter()
        self._failures = 0
        self._spans = {table: span for table in ("holding", "input")
                       if (span := register_span(config.spec, table)) is not None}
        node.add_device(config.device_id, config.spec, self.execute)

    async def run(self) -> None:
        while True:
            reraise_if_cancelling()
            await self.poll_once()
            await asyncio.sleep(self.config.poll_interval_s)

    async def poll_once(self) -> None:
        try:
            readings = await self.read()
        except DeviceUnavailable as exc:
            self._failures += 1
            if self._failures >= self.config.offline_after and self._node.is_online(self.config.device_id):
                log.warning("modbus device offline", extra={"device": self.config.device_id, "error": str(exc)})
                self._node.device_offline(self.config.device_id)
            return
        self._failures = 0
        now = time.monotonic()
        if not self._node.is_online(self.config.device_id):
            self._filter.forget()
            self._filter.remember(readings, now)
            self._node.device_online(self.config.device_id, readings)
            return
        changed = self._filter.select(readings, now)
        if changed:
            self._node.device_data(self.config.device_id, changed, now_ms())

    async def read(self) -> dict[str, Reading]:
        """Engineering values of every mapped telemetry key, unit conversions applied."""
        tables = {table: (span.start, await self._connection.read(self.config.unit, table, span))
                  for table, span in self._spans.items()}
        readings = decode_telemetry(self.config.spec, tables)
        for key, conversion in self.config.convert.items():
            if key in readings:
                readings[key] = convert_unit(readings[key], conversion)
        return readings

    async def execute(self, command: CommandSpec, params: dict[str, Any]) -> None:
        """A command with a register: its one parameter's value written there (engineering units)."""
        if command.modbus is None or len(params) != 1:
            raise CommandFailed(f"{command.name} has no Modbus register for one parameter")
        (value,) = params.values()
        try:
            await self._connection.write(self.config.unit, command.modbus.addr,
                                         encode_value(None, command.modbus, value))
        except (DeviceUnavailable, ValueError) as exc:
            raise CommandFailed(str(exc)) from exc
