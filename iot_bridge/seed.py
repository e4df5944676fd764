"""Demo devices: for two supplier plants, one Sparkplug edge node each with one active device of every type.

Sparkplug group ``demo-<company key>``, edge node ``edge-1``, device codes ``<type code>-1``: what the
device simulator of ``make run`` publishes as. Idempotent: a plant whose edge node exists is left alone.
"""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from iot_bridge import registry
from iot_bridge.device_types import load_device_types
from iot_bridge.models import EdgeNode, Lifecycle, Protocol
from iot_bridge.schemas import DeviceCreate, EdgeNodeCreate
from tradeloom.audit import Actor
from tradeloom.seed import DemoWorld

DEMO_PLANTS = ("nbpf", "czxd")  # Ningbo Precision Fasteners, Changzhou New Power Motor
EDGE_NODE_ID = "edge-1"


def demo_group(company_key: str) -> str:
    return f"demo-{company_key}"


async def seed_devices(session: AsyncSession, world: DemoWorld) -> None:
    """Register the demo edge nodes and devices (see the module docstring)."""
    for key in DEMO_PLANTS:
        org_id = world.organizations[key]
        exists = await session.scalar(select(EdgeNode.id).where(
            EdgeNode.group_id == demo_group(key), EdgeNode.edge_node_id == EDGE_NODE_ID))
        if exists:
            continue
        actor = Actor(org_id=org_id)
        edge, _ = await registry.register_edge_node(session, actor=actor, fields=EdgeNodeCreate(
            group_id=demo_group(key), edge_node_id=EDGE_NODE_ID, name="Edge gateway 1"))
        for index, (code, spec) in enumerate(load_device_types().items()):
            device, _ = await registry.register_device(session, actor=actor, fields=DeviceCreate(
                code=f"{code}-1", name=spec.name.zh, type_code=code, protocol=Protocol.SPARKPLUG,
                edge_node_id=edge.id, work_centre=f"WC-{index % 4 + 1}"))
            await registry.change_lifecycle(session, actor=actor, device_id=device.id,
                                            expected_version=device.version, lifecycle=Lifecycle.ACTIVE)
