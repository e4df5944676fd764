"""Running a planned fleet: every device reports ``rate`` times a second over its own protocol.

- Sparkplug B devices publish through simulated edge nodes (the edge agent's own ``SparkplugEdgeNode``,
  spool included); every DDATA carries metric timestamps that grow strictly per device.
- Plain MQTT JSON sensors publish ``{"ts", "seq", "values"}`` with QoS 1 on ``tl/{org}/{device}/telemetry``
  from persistent sessions (a client per group of sensors), ``seq`` counting up from 1 per sensor.
- Modbus PLCs and OPC UA machines hold their values in pymodbus / asyncua servers; a real edge agent per
  server polls or subscribes to them and speaks Sparkplug B upstream, as it would in a plant.

``sent`` counts each report a device made (spooled at its edge node, or queued for its JSON client) so that
loss can be counted against what reached the database; polled devices are counted by their edge agents.
"""

import asyncio
import json
import logging
import random
import time
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import paho.mqtt.client as mqtt

from iot_bridge.device_types import CommandSpec, load_device_types
from iot_bridge.edge.agent import EdgeAgent
from iot_bridge.edge.config import EdgeConfig
from iot_bridge.edge.mqtt import BrokerAddress, LoopDriver, published
from iot_bridge.edge.node import SparkplugEdgeNode
from iot_bridge.edge.preprocess import Reading
from iot_bridge.edge.spool import Spool
from iot_bridge.models import Protocol
from iot_bridge.running import reraise_if_cancelling
from iot_bridge.simulator.fleet import FleetPlan, SimulatedDevice
from iot_bridge.simulator.modbus_plc import ModbusPlcServer
from iot_bridge.simulator.opcua_machines import OpcUaMachineServer
from iot_bridge.simulator.signals import DeviceSignal

log = logging.getLogger(__name__)
K = TypeVar("K", int, str)  # how a server addresses its devices: Modbus unit id or OPC UA node prefix
JSON_SENSORS_PER_CLIENT = 100
OPCUA_PORT_OFFSET = 500  # OPC UA servers listen at base port + 500 + n, Modbus ones at base port + n
PORT_SPAN = 2 * OPCUA_PORT_OFFSET  # the ports from base port on that a fleet may listen on
STOP_WAIT_SECONDS = 10  # how long a JSON client waits at the stop for the broker to take what it queued


@dataclass
class FleetOptions:
    broker: BrokerAddress
    org_id: uuid.UUID
    rate: float = 1.0  # reports per device per second
    spool_dir: Path = Path("var/simulator")
    base_port: int = 15020
    faults: bool = True  # faults and short disconnections; off for loss benchmarks
    seed: int = 1
    primary_host_id: str | None = None  # the bridge's Sparkplug host id: edge nodes follow its STATE


@dataclass
class FleetStats:
    sent: Counter[str] = field(default_factory=Counter)  # device code → reports made (Sparkplug, JSON)
    # JSON reports the broker had not acknowledged when the fleet stopped: still in the sensor's memory, never
    # handed over (a Sparkplug node keeps its own in its spool)
    held_back: Counter[str] = field(default_factory=Counter)
    ticks: int = 0
    edge_nodes: list[SparkplugEdgeNode] = field(default_factory=list)

    def total_sent(self) -> int:
        return sum(self.sent.values())


class _Ticker:
    """Fixed-rate ticks that do not drift: when a tick runs late, the next one is not pulled in."""

    def __init__(self, period: float) -> None:
        self.period = period
        self._next = time.monotonic()

    async def wait(self) -> None:
        self._next += self.period
        delay = self._next - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            self._next = time.monotonic()
            await asyncio.sleep(0)


class Fleet:
    """All simulated servers, edge nodes and sensors of a plan; ``run`` until cancelled."""

    def __init__(self, plan: FleetPlan, options: FleetOptions) -> None:
        self.plan = plan
        self.options = options
        self.stats = FleetStats()
        self._rng = random.Random(options.seed)  # noqa: S311 - simulated machines, not secrets
        self._signals = {d.code: self._signal(d) for d in plan.devices}
        self._last_ts: dict[str, int] = {}

    async def run(self) -> None:
        self.options.spool_dir.mkdir(parents=True, exist_ok=True)
        async with asyncio.TaskGroup() as tasks:
            for edge_node, devices in self.plan.by_edge_node().items():
                if devices[0].protocol is Protocol.SPARKPLUG:
                    tasks.create_task(self._sparkplug_node(edge_node, devices))
            json_sensors = self.plan.of(Protocol.MQTT_JSON)
            for start in range(0, len(json_sensors), JSON_SENSORS_PER_CLIENT):
                tasks.create_task(self._json_sensors(start // JSON_SENSORS_PER_CLIENT,
                                                     json_sensors[start:start + JSON_SENSORS_PER_CLIENT]))
            for server, devices in _by_server(self.plan.of(Protocol.MODBUS)).items():
                tasks.create_task(self._modbus_server(server, devices))
            for server, devices in _by_server(self.plan.of(Protocol.OPCUA)).items():
                tasks.create_task(self._opcua_server(server, devices))

    def _signal(self, device: SimulatedDevice) -> DeviceSignal:
        rng = random.Random(f"{self.options.seed}/{device.code}")  # noqa: S311 - reproducible, not secret
        return DeviceSignal(load_device_types()[device.type_code], rng,
                            fault_probability=0.002 if self.options.faults else 0.0)

    def _timestamp(self, code: str) -> int:
        """Now in ms, but always after the device's previous report (the per-device sequence)."""
        ts = max(int(time.time() * 1000), self._last_ts.get(code, 0) + 1)
        self._last_ts[code] = ts
        return ts

    # -- Sparkplug edge nodes -------------------------------------------------------------------------------

    async def _sparkplug_node(self, edge_node: str, devices: list[SimulatedDevice]) -> None:
        spool = Spool(self.options.spool_dir / f"{self.plan.group_id}-{edge_node}.sqlite")
        node = SparkplugEdgeNode(group_id=self.plan.group_id, edge_node_id=edge_node, broker=self.options.broker,
                                 spool=spool, primary_host_id=self.options.primary_host_id)
        for device in devices:
            node.add_device(device.code, load_device_types()[device.type_code], self._accept_command)
            node.device_online(device.code, self._signals[device.code].values)
        self.stats.edge_nodes.append(node)
        await node.start()
        offline: dict[str, int] = {}
        ticker = _Ticker(1 / self.options.rate)
        try:
            while True:
                await ticker.wait()
                for device in devices:
                    if self._disconnected(node, device.code, offline):
                        continue
                    node.device_data(device.code, self._signals[device.code].step(), self._timestamp(device.code))
                    self.stats.sent[device.code] += 1
                self.stats.ticks += 1
        finally:
            await node.stop()
            spool.close()

    def _disconnected(self, node: SparkplugEdgeNode, code: str, offline: dict[str, int]) -> bool:
        """Now and then a device drops off its edge node for a few periods (DDEATH, later DBIRTH)."""
        if code in offline:
            offline[code] -= 1
            if offline[code] > 0:
                return True
            del offline[code]
            node.device_online(code, self._signals[code].values)
            return False
        if self.options.faults and self._rng.random() < 0.0005:
            offline[code] = self._rng.randint(3, 20)
            node.device_offline(code)
            return True
        return False

    @staticmethod
    async def _accept_command(command: CommandSpec, params: dict[str, Any]) -> None:
        """A simulated controller takes every valid command (the node checked the parameters)."""
        log.info("simulated device ran a command", extra={"command": command.name})

    # -- plain MQTT JSON sensors -----------------------------------------------------------------------------

    async def _json_sensors(self, group: int, sensors: list[SimulatedDevice]) -> None:
        client = self.options.broker.client(f"tl-sim-{self.plan.group_id}-json-{group}", clean_session=False)
        client.max_queued_messages_set(0)
        driver = LoopDriver(client, self.options.broker)
        sequence = {s.code: 0 for s in sensors}
        # Kept until connected, then sent in order: paho sends what is published while it waits for the
        # CONNACK ahead of what it holds from before, so a reading published then would overtake older ones.
        unsent: deque[tuple[str, str, str]] = deque()  # code, topic, body
        in_flight: deque[tuple[mqtt.MQTTMessageInfo, str]] = deque()  # published, not yet acknowledged
        ticker = _Ticker(1 / self.options.rate)
        try:
            while True:
                await ticker.wait()
                for sensor in sensors:
                    sequence[sensor.code] += 1
                    document = {"ts": self._timestamp(sensor.code), "seq": sequence[sensor.code],
                                "values": self._signals[sensor.code].step()}
                    unsent.append((sensor.code, f"tl/{self.options.org_id}/{sensor.code}/telemetry",
                                   json.dumps(document, separators=(",", ":"))))
                    self.stats.sent[sensor.code] += 1
                while unsent and client.is_connected():
                    code, topic, body = unsent.popleft()
                    in_flight.append((client.publish(topic, body, qos=1), code))
                while in_flight and in_flight[0][0].is_published():
                    in_flight.popleft()
        finally:
            if in_flight:  # what paho still queues goes out before the DISCONNECT (acknowledged in order)
                await published(in_flight[-1][0], STOP_WAIT_SECONDS)
            self.stats.held_back.update(code for info, code in in_flight if not info.is_published())
            self.stats.held_back.update(code for code, _, _ in unsent)
            await driver.stop()

    # -- Modbus PLCs and OPC UA machines behind edge agents ----------------------------------------------------

    async def _modbus_server(self, server: int, devices: list[SimulatedDevice]) -> None:
        types = load_device_types()
        units = {d.address: d for d in devices if d.address is not None}
        plc = ModbusPlcServer(self.options.base_port + server, {u: types[d.type_code] for u, d in units.items()})
        await plc.start()
        try:
            for unit, device in units.items():
                await plc.set_values(unit, self._signals[device.code].values)
            config = self._edge_config(devices[0].edge_node, modbus=[
                {"device_id": d.code, "type": d.type_code, "host": "127.0.0.1", "port": plc.port, "unit": unit,
                 "poll_interval_s": 1 / self.options.rate} for unit, d in units.items()])
            await self._with_agent(config, self._keep_changing(units, plc.set_values))
        finally:
            await plc.stop()

    async def _opcua_server(self, server: int, devices: list[SimulatedDevice]) -> None:
        types = load_device_types()
        machines = {f"{d.code}.": d for d in devices}
        ua_server = OpcUaMachineServer(self.options.base_port + OPCUA_PORT_OFFSET + server,
                                       {prefix: types[d.type_code] for prefix, d in machines.items()})
        await ua_server.start()
        try:
            for prefix, device in machines.items():
                await ua_server.set_values(prefix, self._signals[device.code].values)
            interval_ms = max(10, int(1000 / self.options.rate))
            config = self._edge_config(devices[0].edge_node, opcua=[{
                "endpoint": ua_server.endpoint, "publishing_interval_ms": interval_ms,
                "devices": [{"device_id": d.code, "type": d.type_code, "node_prefix": p} for p, d in machines.items()],
            }])
            await self._with_agent(config, self._keep_changing(machines, ua_server.set_values))
        finally:
            await ua_server.stop()

    async def _keep_changing(self, devices: Mapping[K, SimulatedDevice],
                             store: Callable[[K, dict[str, Reading]], Awaitable[None]]) -> None:
        """Every period, each device's next values into its server (unit id or node prefix → device)."""
        ticker = _Ticker(1 / self.options.rate)
        while True:
            reraise_if_cancelling()
            await ticker.wait()
            for address, device in devices.items():
                await store(address, self._signals[device.code].step())

    def _edge_config(self, edge_node: str | None, **sources: Any) -> EdgeConfig:
        return EdgeConfig.model_validate({
            "group_id": self.plan.group_id, "edge_node_id": edge_node, "primary_host_id": self.options.primary_host_id,
            "spool_path": self.options.spool_dir / f"{self.plan.group_id}-{edge_node}.sqlite", **sources})

    async def _with_agent(self, config: EdgeConfig, updates: Any) -> None:
        agent = EdgeAgent(config, self.options.broker)
        self.stats.edge_nodes.append(agent.node)
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(agent.run())
            tasks.create_task(updates)


def _by_server(devices: list[SimulatedDevice]) -> dict[int, list[SimulatedDevice]]:
    servers: dict[int, list[SimulatedDevice]] = {}
    for device in devices:
        assert device.server is not None
        servers.setdefault(device.server, []).append(device)
    return servers
