"""The embedded broker (amqtt) carries an edge node's Sparkplug session to a paho 2 subscriber."""

import asyncio
import threading

from iot_bridge.device_types import load_device_types
from iot_bridge.edge.mqtt import BrokerAddress
from iot_bridge.edge.node import SparkplugEdgeNode
from iot_bridge.edge.spool import Spool
from iot_bridge.embedded_broker import serve_broker
from iot_bridge.sparkplug import MessageType
from tests.iot_bridge.edge.peers import WAIT_LIMIT_S, SparkplugRecorder, eventually, unique_group
from tradeloom.net import free_port


class BrokerThread:
    """The embedded broker on its own event loop, as in its own process under ``tradeloom serve``."""

    def __init__(self, port: int) -> None:
        self.loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(port,), daemon=True)
        self._thread.start()
        assert self._started.wait(WAIT_LIMIT_S)

    def _run(self, port: int) -> None:
        asyncio.set_event_loop(self.loop)
        self._task = self.loop.create_task(serve_broker("127.0.0.1", port, on_ready=self._started.set))
        self.loop.run_until_complete(asyncio.gather(self._task, return_exceptions=True))

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(WAIT_LIMIT_S)


async def no_command(command, params):
    raise AssertionError("no command in this test")


async def test_edge_node_through_the_embedded_broker(tmp_path):
    # given the embedded broker on a free port
    port = free_port()
    embedded = BrokerThread(port)
    broker = BrokerAddress("127.0.0.1", port)
    group = unique_group()
    recorder = SparkplugRecorder(group, broker)
    node = SparkplugEdgeNode(group_id=group, edge_node_id="e1", broker=broker, spool=Spool(tmp_path / "s.sqlite"))
    node.add_device("meter-1", load_device_types()["energy_meter"], no_command)
    node.device_online("meter-1", {})
    try:
        # when the node connects and reports
        await node.start()
        await recorder.wait_for(lambda ms: recorder.of(MessageType.DBIRTH))
        for count in range(1, 51):
            node.device_data("meter-1", {"energy_total": float(count)})
        # then birth and all 50 values arrive, acknowledged (QoS 1) so the spool empties
        await recorder.wait_for(lambda ms: len(recorder.of(MessageType.DDATA)) == 50)
        assert [m.values()["energy_total"] for m in recorder.of(MessageType.DDATA)] == [float(n) for n in range(1, 51)]
        await eventually(lambda: node.counters.data_acknowledged == 50)
    finally:
        await node.stop()
        recorder.close()
        embedded.stop()
