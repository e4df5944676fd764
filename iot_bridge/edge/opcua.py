"""OPC UA machines: one client per server, a subscription with a monitored item per telemetry node id.

Several machines of one type on one server are told apart by a prefix on the type's string node ids
(``ns=2;s=cnc_lathe.spindle_speed`` becomes ``ns=2;s=M17.cnc_lathe.spindle_speed`` with prefix ``M17.``).
A lost connection makes every machine of the server offline (DDEATH) until the client is back.
"""

import asyncio
import logging
import time
from collections import defaultdict
from typing import Any

from asyncua import Client, Node, ua

from iot_bridge.device_types import CommandSpec
from iot_bridge.edge.config import OpcUaDeviceConfig, OpcUaServerConfig
from iot_bridge.edge.edge_device import CommandFailed
from iot_bridge.edge.node import SparkplugEdgeNode, now_ms
from iot_bridge.edge.preprocess import Reading, ReportFilter, convert_unit
from iot_bridge.running import reraise_if_cancelling

log = logging.getLogger(__name__)


def device_node_id(node_id: str, prefix: str) -> str:
    """The node id of one machine: the type's string identifier behind the machine's prefix."""
    namespace, separator, identifier = node_id.partition(";s=")
    if not prefix:
        return node_id
    if not separator:
        raise ValueError(f"a node prefix needs string node ids, not {node_id!r}")
    return f"{namespace};s={prefix}{identifier}"


class OpcUaSubscriber:
    """Subscribes to every telemetry node of the machines of one OPC UA server."""

    def __init__(self, config: OpcUaServerConfig, node: SparkplugEdgeNode) -> None:
        self.config = config
        self._node = node
        self._client: Client | None = None
        self._monitored: dict[str, tuple[OpcUaDeviceConfig, str]] = {}  # node id → (machine, telemetry key)
        self._filters: dict[str, ReportFilter] = {}
        self._pending: dict[str, dict[str, Reading]] = defaultdict(dict)
        self._flush_scheduled = False
        for device in config.devices:
            self._filters[device.device_id] = device.report_filter()
            for key in device.spec.telemetry:
                self._monitored[device_node_id(key.opcua, device.node_prefix)] = (device, key.key)
            node.add_device(device.device_id, device.spec, self._executor(device))

    async def run(self) -> None:
        """Subscribe; when the server goes away, report the machines offline and try again."""
        while True:
            reraise_if_cancelling()
            try:
                await self._session()
            except (TimeoutError, OSError, ua.UaError, ConnectionError) as exc:
                log.warning("opc ua server unavailable", extra={"endpoint": self.config.endpoint, "error": str(exc)})
            for device in self.config.devices:
                self._node.device_offline(device.device_id)
            await asyncio.sleep(self.config.reconnect_s)

    async def _session(self) -> None:
        client = Client(self.config.endpoint, timeout=4)
        await client.connect()
        self._client = client
        try:
            nodes = [client.get_node(node_id) for node_id in self._monitored]
            values = await client.read_values(nodes)
            self._births(dict(zip(self._monitored, values, strict=True)))
            subscription = await client.create_subscription(self.config.publishing_interval_ms, self)
            await subscription.subscribe_data_change(nodes, sampling_interval=self.config.publishing_interval_ms)
            while True:
                reraise_if_cancelling()
                await asyncio.sleep(1)
                await client.check_connection()  # raises once the server stopped answering
        finally:
            self._client = None
            await _disconnect_quietly(client)

    def _births(self, values: dict[str, Any]) -> None:
        now = time.monotonic()
        per_device: dict[str, dict[str, Reading]] = defaultdict(dict)
        for node_id, value in values.items():
            device, key = self._monitored[node_id]
            per_device[device.device_id][key] = self._engineering(device, key, value)
        for device in self.config.devices:
            readings = per_device[device.device_id]
            self._filters[device.device_id].forget()
            self._filters[device.device_id].remember(readings, now)
            self._node.device_online(device.device_id, readings)

    def datachange_notification(self, node: Node, value: Any, data: Any) -> None:
        """asyncua's callback, once per changed item; one DDATA per machine goes out after the batch."""
        entry = self._monitored.get(node.nodeid.to_string())
        if entry is None:
            return
        device, key = entry
        self._pending[device.device_id][key] = self._engineering(device, key, value)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        now = time.monotonic()
        timestamp = now_ms()
        pending, self._pending = self._pending, defaultdict(dict)
        for device_id, readings in pending.items():
            changed = self._filters[device_id].select(readings, now)
            if changed and self._node.is_online(device_id):
                self._node.device_data(device_id, changed, timestamp)

    @staticmethod
    def _engineering(device: OpcUaDeviceConfig, key: str, value: Any) -> Reading:
        conversion = device.convert.get(key)
        return convert_unit(value, conversion) if conversion else value

    def _executor(self, device: OpcUaDeviceConfig) -> Any:
        async def execute(command: CommandSpec, params: dict[str, Any]) -> None:
            """Writes the parameter (or ``True`` for a command without one) to the command's node."""
            if self._client is None:
                raise CommandFailed("OPC UA server not connected")
            if len(params) > 1:
                raise CommandFailed(f"{command.name} takes more than one parameter: not supported over OPC UA")
            value = next(iter(params.values())) if params else True
            target = self._client.get_node(device_node_id(command.opcua, device.node_prefix))
            try:
                variant_type = await target.read_data_type_as_variant_type()
                await target.write_value(ua.DataValue(ua.Variant(value, variant_type)))
            except (TimeoutError, ua.UaError, OSError) as exc:
                raise CommandFailed(str(exc)) from exc
        return execute


async def _disconnect_quietly(client: Client) -> None:
    try:
        await client.disconnect()
    except (TimeoutError, OSError, ua.UaError, ConnectionError):
        log.debug("opc ua disconnect after a lost connection failed", exc_info=True)
