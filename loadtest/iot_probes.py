"""The IoT bench's probes: the lathe whose alarm is timed, and the edge node that skips a Sparkplug seq.

Both speak to the bench's broker as edge nodes of the bench's Sparkplug group (``GROUP``).
"""

import asyncio
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from iot_bridge.device_types import load_device_types
from iot_bridge.edge.mqtt import BrokerAddress, close_client
from iot_bridge.edge.node import SparkplugEdgeNode
from iot_bridge.edge.spool import Spool
from iot_bridge.sparkplug import DataType, MessageType, Metric, Payload, encode_payload, node_topic
from tradeloom.db import libpq_url

GROUP = "bench"
PROBE_LATHE = "probe-lathe"
GAP_NODE = "gap-probe"
GAP_WAIT_S = 120  # the gap waits in the bridge's backlog, then the reorder timeout, before the Rebirth
# Alarm crossings begun this soon after the fleet's start (5,000 devices connecting and sending their births at
# once), a broker restart or a bridge kill are also counted apart: they measure the catching up, not the steady state.
UNSETTLED_S = 30


@dataclass
class Probes:
    alarms: list[tuple[float, float]] = field(default_factory=list)  # (crossing sent, monotonic; latency ms)
    unsettled_from: list[float] = field(default_factory=list)  # monotonic clock: the fleet's start, each fault

    def alarm_latencies_ms(self, *, settled_only: bool = False) -> list[float]:
        """All crossings' latencies, or only those of crossings not begun within ``UNSETTLED_S`` after the fleet's
        start or a fault."""
        return [latency for sent, latency in self.alarms
                if not settled_only or not any(at <= sent < at + UNSETTLED_S for at in self.unsettled_from)]
    rebirth_after_gap_ms: float | None = None
    events: list[str] = field(default_factory=list)


def probe_lathe(broker: BrokerAddress, spool_path: Path, primary_host_id: str | None, database_url: str,
                until: float) -> list[tuple[float, float]]:
    """The alarm probe until ``until`` (monotonic clock), in a process of its own; its crossings' latencies.

    The lathe's edge node runs apart from the simulator, as an edge gateway of its own would in a plant. As one
    more node on the simulator's saturated loop its reports waited for that loop, and on a thread beside it
    for the GIL, which the loop's constant socket calls kept from it for seconds: the latency counted the
    simulator's lag, not the platform's."""
    return asyncio.run(_probe_lathe(broker, spool_path, primary_host_id, database_url, until))


async def _probe_lathe(broker: BrokerAddress, spool_path: Path, primary_host_id: str | None, database_url: str,
                       until: float) -> list[tuple[float, float]]:
    node = SparkplugEdgeNode(group_id=GROUP, edge_node_id="probe", broker=broker, spool=Spool(spool_path),
                             primary_host_id=primary_host_id)
    node.add_device(PROBE_LATHE, load_device_types()["cnc_lathe"], no_command)
    node.device_online(PROBE_LATHE, {"state": "run", "spindle_temp": 40.0})
    await node.start()
    try:
        return await alarm_probe(node, database_url, until)
    finally:
        await node.stop()


async def alarm_probe(node: SparkplugEdgeNode, database_url: str, until: float) -> list[tuple[float, float]]:
    """Every 2 s: spindle temperature over 80 °C (the lathe's alarm), time until the alarm row exists.

    Returns (crossing sent, on the monotonic clock; latency in ms) per alarm raised."""
    raised_alarms: list[tuple[float, float]] = []
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        while time.monotonic() < until:
            before = _alarm_count(conn)
            sent = time.monotonic()
            node.device_data(PROBE_LATHE, {"spindle_temp": 95.0})
            raised = before
            while raised == before and time.monotonic() - sent < 30:
                await asyncio.sleep(0.02)
                raised = _alarm_count(conn)
            if raised > before:
                raised_alarms.append((sent, (time.monotonic() - sent) * 1000))
            node.device_data(PROBE_LATHE, {"spindle_temp": 40.0})  # below the hysteresis: the alarm clears
            await asyncio.sleep(2)
    return raised_alarms


def _alarm_count(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM iot_alarms a JOIN iot_devices d ON d.id = a.device_id "
                       "WHERE d.code = %s AND a.rule_code = 'spindle_overtemp'", (PROBE_LATHE,)).fetchone()
    return int(row[0]) if row else 0


def seq_gap_probe(broker: BrokerAddress, probes: Probes) -> None:
    """An edge node that jumps from seq 1 to 3 must be asked for a Rebirth by the host."""
    answered, subscribed = threading.Event(), threading.Event()
    client = broker.client(f"{GROUP}-{GAP_NODE}")
    client.on_message = lambda c, u, m: answered.set()
    client.on_subscribe = lambda *args: subscribed.set()
    client.connect(broker.host, broker.port)
    client.loop_start()
    client.subscribe(node_topic(GROUP, MessageType.NCMD, GAP_NODE), qos=1)
    subscribed.wait(10)
    now = int(time.time() * 1000)
    birth = Payload(timestamp=now, seq=0, metrics=(Metric(name="bdSeq", value=0, datatype=DataType.UINT64),))
    client.publish(node_topic(GROUP, MessageType.NBIRTH, GAP_NODE), encode_payload(birth), qos=1).wait_for_publish(10)
    for seq in (1, 3):
        client.publish(node_topic(GROUP, MessageType.NDATA, GAP_NODE),
                       encode_payload(Payload(timestamp=now + seq, seq=seq)), qos=1).wait_for_publish(10)
    sent = time.monotonic()
    if answered.wait(GAP_WAIT_S):
        probes.rebirth_after_gap_ms = (time.monotonic() - sent) * 1000
    close_client(client)


async def no_command(command: Any, params: Any) -> None:
    """The probe lathe takes no commands."""
