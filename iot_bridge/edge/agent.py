"""``tradeloom edge-agent``: the Modbus pollers and OPC UA subscribers of one edge node, run together."""

import asyncio
import logging
from dataclasses import dataclass, field

from iot_bridge.edge.config import EdgeConfig
from iot_bridge.edge.modbus import ModbusConnection, ModbusPoller
from iot_bridge.edge.mqtt import BrokerAddress
from iot_bridge.edge.node import SparkplugEdgeNode
from iot_bridge.edge.opcua import OpcUaSubscriber
from iot_bridge.edge.spool import Spool

log = logging.getLogger(__name__)


@dataclass
class EdgeAgent:
    """Everything one edge node runs; ``run`` until cancelled, then NDEATH and close."""

    config: EdgeConfig
    broker: BrokerAddress
    node: SparkplugEdgeNode = field(init=False)
    pollers: list[ModbusPoller] = field(init=False, default_factory=list)
    subscribers: list[OpcUaSubscriber] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.config.spool_path.parent.mkdir(parents=True, exist_ok=True)
        self._spool = Spool(self.config.spool_path)
        self.node = SparkplugEdgeNode(group_id=self.config.group_id, edge_node_id=self.config.edge_node_id,
                                      broker=self.broker, spool=self._spool,
                                      primary_host_id=self.config.primary_host_id)
        self._connections: dict[tuple[str, int], ModbusConnection] = {}
        for device in self.config.modbus:
            connection = self._connections.setdefault(
                (device.host, device.port), ModbusConnection(device.host, device.port, device.timeout_s))
            self.pollers.append(ModbusPoller(device, connection, self.node))
        self.subscribers = [OpcUaSubscriber(server, self.node) for server in self.config.opcua]

    async def run(self) -> None:
        await self.node.start()
        log.info("edge agent started", extra={"group": self.config.group_id, "edge": self.config.edge_node_id,
                                              "modbus": len(self.pollers), "opcua": len(self.subscribers)})
        try:
            async with asyncio.TaskGroup() as tasks:
                for poller in self.pollers:
                    tasks.create_task(poller.run())
                for subscriber in self.subscribers:
                    tasks.create_task(subscriber.run())
        finally:
            await self.node.stop()
            for connection in self._connections.values():
                connection.close()
            self._spool.close()


async def run_edge_agent(config: EdgeConfig, broker: BrokerAddress) -> None:
    """Build the agent on the running loop (pymodbus clients bind to it) and run it."""
    await EdgeAgent(config, broker).run()
