"""CPU the bridge process spends per 1,000 Sparkplug messages: a figure that does not depend on machine load.

    python -m loadtest.iot_bridge_cpu --devices 1000 --rounds 20 [--profile /tmp/bridge.txt]

Same set-up as ``loadtest.iot_bench`` (scratch database with the fleet in the registry, private Mosquitto,
embedded Redis, ``tradeloom iot-bridge`` as a child process). This process then publishes, QoS 1 and as fast
as the broker takes them, births and ``rounds`` DDATA per Sparkplug device of the fleet (every numeric key of
its type, by alias; values from the simulator's fault-free signals, a second apart: the steady state, no alarm
storm), waits until the bridge stored all of them, and reads the bridge's user + system CPU time from /proc
before and after. With ``--profile`` py-spy samples the bridge meanwhile (collapsed stacks).
"""

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
from redis import Redis

from iot_bridge.device_types import ValueType, load_device_types
from iot_bridge.live import REJECTED
from iot_bridge.models import Protocol
from iot_bridge.simulator.fleet import FleetPlan, plan_fleet
from iot_bridge.simulator.signals import DeviceSignal
from iot_bridge.sparkplug import (
    BD_SEQ,
    DataType,
    MessageType,
    Metric,
    Payload,
    device_topic,
    encode_payload,
    node_topic,
)
from loadtest.iot_bench import prepare, workspace
from loadtest.iot_probes import GROUP
from loadtest.iot_processes import Bridge, Mosquitto, process_cpu_seconds, wait_until_online
from loadtest.ledger_bench import load_average
from loadtest.scratch import fresh_database
from tradeloom.db import libpq_url
from tradeloom.settings import get_settings

DATABASE = "tl_bench_iot_cpu"
_TYPES = {ValueType.DOUBLE: DataType.DOUBLE, ValueType.INT: DataType.INT64}
PUBLISH_CHUNK = 10_000


def messages(plan: FleetPlan, rounds: int, start_ms: int) -> list[tuple[str, bytes]]:
    """Births, then ``rounds`` DDATA of every Sparkplug device, per edge node in seq order."""
    types, out = load_device_types(), []
    for edge, devices in plan.by_edge_node().items():
        devices = [d for d in devices if d.protocol is Protocol.SPARKPLUG]
        if not devices:
            continue
        seq = 0
        out.append((node_topic(GROUP, MessageType.NBIRTH, edge), encode_payload(Payload(
            timestamp=start_ms, seq=seq, metrics=(Metric(BD_SEQ, 0, DataType.UINT64),)))))
        keys = {d.code: [t for t in types[d.type_code].telemetry if t.type in _TYPES] for d in devices}
        for device in devices:
            seq += 1
            births = tuple(Metric(t.metric, 0 if t.type is ValueType.INT else 0.0, _TYPES[t.type], alias=i + 1)
                           for i, t in enumerate(keys[device.code]))
            out.append((device_topic(GROUP, MessageType.DBIRTH, edge, device.code),
                        encode_payload(Payload(timestamp=start_ms, seq=seq % 256, metrics=births))))
        signals = {d.code: DeviceSignal(types[d.type_code], random.Random(d.code), fault_probability=0.0)  # noqa: S311
                   for d in devices}
        for round_no in range(1, rounds + 1):
            for device in devices:
                seq += 1
                values = signals[device.code].step()
                data = tuple(Metric(None, values[t.key], _TYPES[t.type], alias=i + 1)
                             for i, t in enumerate(keys[device.code]))
                out.append((device_topic(GROUP, MessageType.DDATA, edge, device.code),
                            encode_payload(Payload(timestamp=start_ms + round_no * 1000, seq=seq % 256,
                                                   metrics=data))))
    return out


def publish(port: int, batch: list[tuple[str, bytes]]) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="cpu-bench-publisher")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    info = None
    for index, (topic, payload) in enumerate(batch, start=1):
        info = client.publish(topic, payload, qos=1)
        if index % PUBLISH_CHUNK == 0:  # paho holds at most 65,535 unacknowledged messages (their packet ids)
            info.wait_for_publish(600)
    if info is not None:
        info.wait_for_publish(600)
    client.loop_stop()
    client.disconnect()


def rejected(redis_url: str) -> dict[str, int]:
    with Redis.from_url(redis_url) as redis:
        return {k.decode(): int(v) for k, v in redis.hgetall(REJECTED).items()}


def stored_messages(database_url: str) -> int:
    with psycopg.connect(libpq_url(database_url)) as conn:
        row = conn.execute("SELECT count(DISTINCT (device_id, ts)) FROM iot_telemetry").fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--profile", type=Path, help="py-spy collapsed stacks of the bridge to this file")
    arguments = parser.parse_args()
    load_before = load_average()
    with workspace() as (folder, redis_url):
        database_url = fresh_database(DATABASE)
        plan = plan_fleet(arguments.devices, group_id=GROUP)
        asyncio.run(prepare(database_url, plan))
        mosquitto = Mosquitto(folder)
        mosquitto.start()
        bridge = Bridge(os.environ | {"TRADELOOM_DATABASE_URL": database_url, "TRADELOOM_REDIS_URL": redis_url,
                                      "TRADELOOM_MQTT_URL": f"mqtt://127.0.0.1:{mosquitto.port}"})
        bridge.start()
        try:
            batch = messages(plan, arguments.rounds, int(time.time() * 1000) - 3_600_000)
            expected = len(batch) - len(plan.by_edge_node())  # NBIRTHs carry no device data
            # its start-up CPU is not counted
            wait_until_online(mosquitto.address, "cpu-bench-watcher", get_settings().iot_host_id, 300)
            time.sleep(2)
            assert bridge.process is not None
            before, started = process_cpu_seconds(bridge.process.pid), time.monotonic()
            spy = _profile(bridge.process.pid, arguments.profile)
            publish(mosquitto.port, batch)
            while stored_messages(database_url) < expected and time.monotonic() - started < 600:
                time.sleep(0.5)
            used, elapsed = process_cpu_seconds(bridge.process.pid) - before, time.monotonic() - started
            stored, refused = stored_messages(database_url), rejected(redis_url)
            if spy is not None:
                spy.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
                spy.wait(60)
        finally:
            bridge.stop()
            mosquitto.stop()
    print(f"load average {load_before}; {stored:,} of {expected:,} messages stored in {elapsed:.1f} s; "
          f"bridge CPU {used:.2f} s = {used * 1000 / max(stored, 1):.3f} CPU-s per 1,000 messages; "
          f"refused: {refused}")


def _profile(pid: int, target: Path | None) -> subprocess.Popen[bytes] | None:
    if target is None:
        return None
    return subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid),  # noqa: S603
                             "--format", "raw", "--output", str(target), "--rate", "200", "--nonblocking"])


if __name__ == "__main__":
    main()
