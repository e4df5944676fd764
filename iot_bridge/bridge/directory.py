"""Registry lookups for the bridge: which organization an edge node or device belongs to, and its type.

Read as the owner (the bridge serves every tenant) and cached: when entries are older than a minute the whole
registry is loaded in one query, so a fleet costs one query per minute, not one per device and minute, and a
retired device stops being accepted within that time. A key the registry had not is asked for alone (a new
device is seen at once); a miss is remembered briefly, so a flood for an unknown device costs one query per
``MISS_SECONDS``.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iot_bridge.device_types import DeviceTypeSpec, load_device_types
from iot_bridge.models import Device, EdgeNode, Lifecycle
from iot_bridge.running import until_done

log = logging.getLogger(__name__)
T = TypeVar("T")

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
        return await self._lookup(self._edge_nodes, (group_id, edge_node_id), self._fetch_edge_node)

    async def device(self, org_id: uuid.UUID, code: str) -> KnownDevice | None:
        """A device that may send data: registered in that organization and not retired."""
        return await self._lookup(self._devices, (org_id, code), self._fetch_device)

    async def _lookup(self, cache: dict[Any, tuple[Any, float]], key: Any,
                      fetch_one: Callable[..., Awaitable[Any]]) -> Any:
        """From the cache. Entries older than a minute reload the whole registry (one query for the fleet); a
        key the registry had not (a new or unknown device) is asked for alone, and a miss remembered briefly."""
        cached = cache.get(key)
        if cached and _fresh(cached):
            return cached[0]
        async with self._lock:  # shards asking meanwhile wait for this answer rather than query again
            cached = cache.get(key)
            if cached and _fresh(cached):
                return cached[0]
            if time.monotonic() - self._loaded_at >= HIT_SECONDS:
                await _from_database(self._load_all)
                cached = cache.get(key)
                if cached and _fresh(cached):
                    return cached[0]
            found = await _from_database(lambda: fetch_one(*key))
            cache[key] = (found, time.monotonic())
            return found

    async def _fetch_edge_node(self, group_id: str, edge_node_id: str) -> KnownEdgeNode | None:
        async with self._sessionmaker() as session:
            row = (await session.execute(
                select(EdgeNode.id, EdgeNode.org_id)
                .where(EdgeNode.group_id == group_id, EdgeNode.edge_node_id == edge_node_id)
            )).first()
        return KnownEdgeNode(row.id, row.org_id) if row else None

    async def _fetch_device(self, org_id: uuid.UUID, code: str) -> KnownDevice | None:
        async with self._sessionmaker() as session:
            row = (await session.execute(
                select(Device.id, Device.type_code, Device.edge_node_id)
                .where(Device.org_id == org_id, Device.code == code, Device.lifecycle != Lifecycle.RETIRED.value)
            )).first()
        spec = load_device_types().get(row.type_code) if row else None
        return KnownDevice(row.id, org_id, code, row.edge_node_id, spec) if row and spec else None

    async def _load_all(self) -> None:
        now = time.monotonic()
        types = load_device_types()
        async with self._sessionmaker() as session:
            edges = (await session.execute(select(EdgeNode.id, EdgeNode.org_id, EdgeNode.group_id,
                                                  EdgeNode.edge_node_id))).all()
            devices = (await session.execute(
                select(Device.id, Device.org_id, Device.code, Device.type_code, Device.edge_node_id)
                .where(Device.lifecycle != Lifecycle.RETIRED.value))).all()
        # in place: lookups waiting for this load hold these very dicts
        self._edge_nodes.clear()
        self._edge_nodes.update({(e.group_id, e.edge_node_id): (KnownEdgeNode(e.id, e.org_id), now) for e in edges})
        self._devices.clear()
        self._devices.update({(d.org_id, d.code): (KnownDevice(d.id, d.org_id, d.code, d.edge_node_id,
                                                               types[d.type_code]), now)
                              for d in devices if d.type_code in types})
        self._loaded_at = now


def _from_database(read: Callable[[], Awaitable[T]]) -> Awaitable[T]:
    """The registry's answer, however long the database is away: the shard waits, its order kept, rather
    than refusing a registered device's data or losing the worker to the error."""
    return until_done(read, log=log, failure="iot bridge is waiting for its database to read the registry")


def _fresh(cached: tuple[object | None, float]) -> bool:
    return time.monotonic() - cached[1] < (HIT_SECONDS if cached[0] is not None else MISS_SECONDS)
