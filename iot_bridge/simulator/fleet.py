"""Which simulated devices exist, how they are reached, and their rows in the device registry.

A fleet of N devices is split across the protocols (by default half Sparkplug B edge nodes of up to 100
devices, a fifth plain MQTT JSON sensors, a fifth Modbus PLCs behind pymodbus servers of up to 200 unit
ids, a tenth OPC UA machines in asyncua servers of up to 100 machines); types go round-robin over all
shipped types, so every type is present once the fleet has a few dozen devices of each protocol.
Modbus and OPC UA devices are reached through an edge agent per server, which is their Sparkplug edge
node in the registry.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from iot_bridge.device_types import load_device_types
from iot_bridge.models import Device, EdgeNode, Protocol
from iot_bridge.registry import register_device, register_edge_node
from iot_bridge.schemas import DeviceCreate, EdgeNodeCreate
from tradeloom.audit import Actor


@dataclass(frozen=True, slots=True)
class FleetMix:
    """Share of each protocol in the fleet (the rest after the others goes to Sparkplug)."""

    json: float = 0.2
    modbus: float = 0.2
    opcua: float = 0.1
    devices_per_edge_node: int = 100
    plcs_per_server: int = 200
    machines_per_server: int = 100


@dataclass(frozen=True, slots=True)
class SimulatedDevice:
    code: str  # device id in topics, unique in the organization
    type_code: str
    protocol: Protocol
    edge_node: str | None  # Sparkplug edge node id (Modbus/OPC UA: their edge agent's)
    server: int | None = None  # Modbus/OPC UA: which simulated server (port = base port + offset)
    address: int | None = None  # Modbus unit id


@dataclass(frozen=True)
class FleetPlan:
    group_id: str
    devices: tuple[SimulatedDevice, ...]

    def by_edge_node(self) -> dict[str, list[SimulatedDevice]]:
        nodes: dict[str, list[SimulatedDevice]] = defaultdict(list)
        for device in self.devices:
            if device.edge_node is not None:
                nodes[device.edge_node].append(device)
        return dict(nodes)

    def of(self, protocol: Protocol) -> list[SimulatedDevice]:
        return [d for d in self.devices if d.protocol is protocol]


def plan_fleet(total: int, *, group_id: str = "sim", mix: FleetMix = FleetMix()) -> FleetPlan:
    """Deterministic: the same arguments name the same devices, so a restart finds its registry rows."""
    types = sorted(load_device_types())
    counts = {Protocol.MQTT_JSON: int(total * mix.json), Protocol.MODBUS: int(total * mix.modbus),
              Protocol.OPCUA: int(total * mix.opcua)}
    counts[Protocol.SPARKPLUG] = total - sum(counts.values())
    devices: list[SimulatedDevice] = []
    number = 0
    for protocol, count in counts.items():
        for index in range(count):
            number += 1
            code = f"{group_id}-{number:05d}"
            type_code = types[index % len(types)]
            devices.append(_reach(protocol, index, code, type_code, mix))
    return FleetPlan(group_id, tuple(devices))


def _reach(protocol: Protocol, index: int, code: str, type_code: str, mix: FleetMix) -> SimulatedDevice:
    if protocol is Protocol.SPARKPLUG:
        return SimulatedDevice(code, type_code, protocol, f"sp-{index // mix.devices_per_edge_node + 1:03d}")
    if protocol is Protocol.MODBUS:
        server = index // mix.plcs_per_server
        return SimulatedDevice(code, type_code, protocol, f"modbus-{server + 1:03d}", server,
                               index % mix.plcs_per_server + 1)
    if protocol is Protocol.OPCUA:
        server = index // mix.machines_per_server
        return SimulatedDevice(code, type_code, protocol, f"opcua-{server + 1:03d}", server)
    return SimulatedDevice(code, type_code, protocol, None)


async def provision_fleet(session: AsyncSession, *, org_id: uuid.UUID, plan: FleetPlan) -> int:
    """Registry rows (edge nodes, devices) for the fleet in ``org_id``, through the registry service.

    Idempotent: what already exists is left as it is. Returns how many devices were added.
    """
    actor = Actor(org_id=org_id)
    nodes = {row.edge_node_id: row.id for row in (await session.execute(
        select(EdgeNode.edge_node_id, EdgeNode.id).where(EdgeNode.group_id == plan.group_id))).all()}
    for edge_node in plan.by_edge_node():
        if edge_node not in nodes:
            node, _ = await register_edge_node(session, actor=actor, fields=EdgeNodeCreate(
                group_id=plan.group_id, edge_node_id=edge_node, name=f"Simulated {edge_node}"))
            nodes[edge_node] = node.id
    known = set((await session.scalars(select(Device.code).where(Device.org_id == org_id))).all())
    added = 0
    for device in plan.devices:
        if device.code in known:
            continue
        await register_device(session, actor=actor, fields=DeviceCreate(
            code=device.code, name=f"{load_device_types()[device.type_code].name.en} {device.code}",
            type_code=device.type_code, protocol=device.protocol,
            edge_node_id=nodes[device.edge_node] if device.edge_node else None, work_centre="SIM"))
        added += 1
    return added
