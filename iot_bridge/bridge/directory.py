"""Registry lookups for the bridge: which organization an edge node or device belongs to, and its type.

Read as the owner (the bridge serves every tenant) and cached; a miss is remembered briefly, so a flood of
messages for an unknown device costs one query per interval and a newly registered device is seen soon; a
hit is kept a minute, so a retired device stops being accepted within that time.
"""

import time
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iot_bridge.device_types import DeviceTypeSpec, load_device_types
from iot_bridge.models import Device, EdgeNode, Lifecycle

MISS_SECONDS = 10.0
HIT_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class KnownEdgeNode:
    id: uuid.UUID
    org_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class KnownDevice:
    id: uuid.UUID
    org_id: uuid.UUID
    code: str
    edge_node_id: uuid.UUID | None
    spec: DeviceTypeSpec


class Directory:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        self._edge_nodes: dict[tuple[str, str], tuple[KnownEdgeNode | None, float]] = {}
        self._devices: dict[tuple[uuid.UUID, str], tuple[KnownDevice | None, float]] = {}

    async def edge_node(self, group_id: str, edge_node_id: str) -> KnownEdgeNode | None:
        key = (group_id, edge_node_id)
        cached = self._edge_nodes.get(key)
        if cached and _fresh(cached):
            return cached[0]
        async with self._sessionmaker() as session:
            row = (await session.execute(
                select(EdgeNode.id, EdgeNode.org_id)
                .where(EdgeNode.group_id == group_id, EdgeNode.edge_node_id == edge_node_id)
            )).first()
        found = KnownEdgeNode(row.id, row.org_id) if row else None
        self._edge_nodes[key] = (found, time.monotonic())
        return found

    async def device(self, org_id: uuid.UUID, code: str) -> KnownDevice | None:
        """A device that may send data: registered in that organization and not retired."""
        key = (org_id, code)
        cached = self._devices.get(key)
        if cached and _fresh(cached):
            return cached[0]
        async with self._sessionmaker() as session:
            row = (await session.execute(
                select(Device.id, Device.type_code, Device.edge_node_id)
                .where(Device.org_id == org_id, Device.code == code, Device.lifecycle != Lifecycle.RETIRED.value)
            )).first()
        spec = load_device_types().get(row.type_code) if row else None
        found = KnownDevice(row.id, org_id, code, row.edge_node_id, spec) if row and spec else None
        self._devices[key] = (found, time.monotonic())
        return found


def _fresh(cached: tuple[object | None, float]) -> bool:
    return time.monotonic() - cached[1] < (HIT_SECONDS if cached[0] is not None else MISS_SECONDS)
