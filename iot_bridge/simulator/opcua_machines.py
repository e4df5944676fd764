"""Simulated OPC UA machines: one asyncua server exposing the nodes of many machines (by node prefix)."""

from collections.abc import Mapping

from asyncua import Server, ua
from asyncua.common.node import Node

from iot_bridge.device_types import DeviceTypeSpec, ValueType
from iot_bridge.edge.opcua import device_node_id
from iot_bridge.edge.preprocess import Reading

NAMESPACE_URI = "urn:tradeloom:simulator"  # registered first, so it is ns=2 as in the type node ids
_VARIANTS = {ValueType.DOUBLE: ua.VariantType.Double, ValueType.INT: ua.VariantType.Int64,
             ValueType.BOOL: ua.VariantType.Boolean, ValueType.STRING: ua.VariantType.String}
_INITIAL = {ValueType.DOUBLE: 0.0, ValueType.INT: 0, ValueType.BOOL: False, ValueType.STRING: ""}


class OpcUaMachineServer:
    """An OPC UA server with a variable per telemetry key and a writable one per command of each machine."""

    def __init__(self, port: int, machines: Mapping[str, DeviceTypeSpec], host: str = "127.0.0.1") -> None:
        self.endpoint = f"opc.tcp://{host}:{port}/tradeloom/"
        self.machines = dict(machines)  # node prefix → type
        self._server = Server()
        self._variables: dict[tuple[str, str], tuple[Node, ua.VariantType]] = {}  # (prefix, key or cmd.name)

    async def start(self) -> None:
        await self._server.init()
        self._server.set_endpoint(self.endpoint)
        self._server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        namespace = await self._server.register_namespace(NAMESPACE_URI)
        objects = self._server.nodes.objects
        for prefix, spec in self.machines.items():
            folder = await objects.add_object(ua.NodeId(f"{prefix}{spec.code}", namespace), f"{namespace}:{prefix}")
            for key in spec.telemetry:
                await self._add(folder, prefix, key.key, device_node_id(key.opcua, prefix), key.type)
            for command in spec.commands:
                value_type = command.params[0].type if len(command.params) == 1 else ValueType.BOOL
                node = await self._add(folder, prefix, f"cmd.{command.name}",
                                       device_node_id(command.opcua, prefix), value_type)
                await node.set_writable()
        await self._server.start()

    async def _add(self, folder: Node, prefix: str, name: str, node_id: str, value_type: ValueType) -> Node:
        variant = _VARIANTS[value_type]
        node = await folder.add_variable(ua.NodeId.from_string(node_id), f"2:{name}",
                                         ua.Variant(_INITIAL[value_type], variant))
        self._variables[(prefix, name)] = (node, variant)
        return node

    async def stop(self) -> None:
        await self._server.stop()

    async def set_values(self, prefix: str, values: Mapping[str, Reading]) -> None:
        """New telemetry values of one machine (subscribed clients get them at the next publish)."""
        for key, value in values.items():
            node, variant = self._variables[(prefix, key)]
            await node.write_value(ua.Variant(value, variant))

    async def command_value(self, prefix: str, command: str) -> Reading:
        """What a client last wrote to a command node."""
        node, _ = self._variables[(prefix, f"cmd.{command}")]
        value = await node.read_value()
        assert isinstance(value, int | float | bool | str)
        return value
