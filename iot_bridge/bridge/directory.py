"""Registry lookups for the bridge: which organization an edge node or device belongs to, and its type.

Read as the owner (the bridge serves every tenant) and cached: the whole registry is loaded in one query when a
lookup misses or finds an entry older than a minute (at most every ``MISS_SECONDS``), so a fleet costs one
query per minute, not one per device; a newly registered device is seen within ``MISS_SECONDS`` and a retired
one stops being accepted within a minute.
"""

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

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
        self._loaded_at = float("-inf")
        self._lock = asyncio.Lock()

    async def edge_node(self, group_id: str, edge_node_id: str) -> KnownEdgeNode | None:
        return await self._lookup(self._edge_nodes, (group_id, edge_node_id))

    async def device(self, org_id: uuid.UUID, code: str) -> KnownDevice | None:
        """A device that may send data: registered in that organization and not retired."""
        return await self._lookup(self._devices, (org_id, code))

    async def _lookup(self, cache: dict[Any, tuple[Any, float]], key: Any) -> Any:
        """From the cache; a miss or an old entry reloads the whole registry (at most every MISS_SECONDS):
        one query for a fleet rather than one per device and minute."""
        cached = cache.get(key)
        if cached and _fresh(cached):
            return cached[0]
        if time.monotonic() - self._loaded_at >= MISS_SECONDS or self._lock.locked():
            async with self._lock:  # shards asking meanwhile wait for that load rather than record a miss
                if time.monotonic() - self._loaded_at >= MISS_SECONDS:
                    await self._load_all()
            cached = cache.get(key)
            if cached and _fresh(cached):
                return cached[0]
        cache[key] = (None, time.monotonic())
        return None

    async def _load_all(self) -> None:
        now = time.monotonic()
        types = load_device_types()
        async with self._sessionmaker() as session:
            edges = (await session.execute(select(EdgeNode.id, EdgeNode.org_id, EdgeNode.group_id,
                                                  EdgeNode.edge_node_id))).all()
            devices = (await session.execute(
                select(Device.id, Device.org_id, Device.code, Device.type_code, Device.edge_node_id)
                .where(Device.lifecycle != Lifecycle.RETIRED.value))).all()
        self._edge_nodes = {(e.group_id, e.edge_node_id): (KnownEdgeNode(e.id, e.org_id), now) for e in edges}
        self._devices = {(d.org_id, d.code): (KnownDevice(d.id, d.org_id, d.code, d.edge_node_id, types[d.type_code]),
                                              now) for d in devices if d.type_code in types}
        self._loaded_at = now


def _fresh(cached: tuple[object | None, float]) -> bool:
    return time.monotonic() - cached[1] < (HIT_SECONDS if cached[0] is not None else MISS_SECONDS)
