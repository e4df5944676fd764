"""IoT end to end: simulated fleet → Mosquitto → ``tradeloom iot-bridge`` → PostgreSQL, with faults.

    python -m loadtest.iot_bench --devices 5000 --rate 1 --duration 600

Starts a private Mosquitto (persistent sessions, unlimited queues) on a free port, a scratch database with
the demo world and the fleet in the registry, embedded Redis, and the bridge as a child process; runs the
fleet (``tradeloom simulate-devices``' own code, in this process) and meanwhile:
- restarts the broker at 30 % of the run and kills the bridge with SIGKILL at 60 % (restarted 2 s later);
- every 2 s pushes a probe lathe's spindle temperature over its alarm threshold and back (its edge node in a
  process of its own, as a gateway of its own would be), timing how long
  until the alarm row is in PostgreSQL (wall clock, polled every 20 ms);
- has a probe edge node skip a Sparkplug seq and waits for the bridge's Rebirth NCMD.
Loss is counted per device after the bridge drained: Sparkplug devices by distinct metric timestamps (they
grow strictly per device), JSON sensors by distinct ``seq``, against what the simulator handed to MQTT.
"""

import argparse
import asyncio
import datetime as dt
import multiprocessing
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from redis import Redis

from iot_bridge import live
from iot_bridge.device_types import load_device_types
from iot_bridge.models import Protocol
from iot_bridge.simulator.command import provision
from iot_bridge.simulator.fleet import FleetPlan, SimulatedDevice, plan_fleet
from iot_bridge.simulator.runner import PORT_SPAN, Fleet, FleetOptions
from loadtest.iot_probes import (
    GAP_NODE,
    GROUP,
    PROBE_LATHE,
    UNSETTLED_S,
    Probes,
    probe_lathe,
    seq_gap_probe,
)
from loadtest.iot_processes import AUTOSAVE_S, Bridge, Mosquitto, wait_until_online
from loadtest.ledger_bench import load_average, machine, percentile, pgbench_tps, write_section
from loadtest.scratch import SERVER_URL, fresh_database
from tradeloom.db import libpq_url, make_engine, make_sessionmaker
from tradeloom.embedded import EmbeddedServices, start_redis
from tradeloom.gc_tuning import tune_collector_for_service
from tradeloom.net import free_port_block
from tradeloom.seed import seed_world
from tradeloom.settings import get_settings

SECTION = "## IoT bridge end to end"
DATABASE = "tl_bench_iot"
# The bridge has drained when the stored count stopped growing for this long: longer than the reorder timeout,
# during which a message held for a missing predecessor is not stored.
DRAIN_QUIET_S = get_settings().iot_reorder_timeout_seconds * 3
FAULTS = ("both", "broker", "kill", "none")  # broker: restart at 30 %; kill: bridge SIGKILL at 60 %


async def run_load(plan: FleetPlan, options: FleetOptions, *, duration: float, mosquitto: Mosquitto, bridge: Bridge,
                   database_url: str, probes: Probes, faulty: str = "both") -> Fleet:
    """The fleet for ``duration`` seconds, with the probes and the faults asked for (``FAULTS``)."""
    fleet = Fleet(plan, options)
    options.spool_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    probes.unsettled_from.append(started)

    async def faults() -> None:
        await asyncio.sleep(duration * 0.3)
        down_s = 3 if faulty in ("broker", "both") else 0
        if down_s:
            probes.events.append(f"{time.monotonic() - started:.0f} s: broker restart (SIGTERM, 3 s down)")
            probes.unsettled_from.append(time.monotonic())
            await asyncio.to_thread(mosquitto.stop)
            await asyncio.sleep(down_s)
            await asyncio.to_thread(mosquitto.start)
        await asyncio.sleep(duration * 0.3 - down_s)
        if faulty in ("kill", "both"):
            probes.events.append(f"{time.monotonic() - started:.0f} s: bridge SIGKILL, restarted 2 s later")
            probes.unsettled_from.append(time.monotonic())
            await asyncio.to_thread(bridge.kill)
            await asyncio.sleep(2)
            bridge.start()
        await asyncio.sleep(duration * 0.1)
        await asyncio.to_thread(seq_gap_probe, mosquitto.address, probes)

    running = asyncio.create_task(fleet.run())
    fault_task = asyncio.create_task(faults())
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as probe_process:
        alarms = asyncio.get_running_loop().run_in_executor(
            probe_process, probe_lathe, mosquitto.address, options.spool_dir / "probe.sqlite",
            options.primary_host_id, database_url, started + duration)
        await asyncio.sleep(duration)
        running.cancel()
        await asyncio.gather(running, fault_task, return_exceptions=True)
        probes.alarms.extend(await alarms)
    return fleet


def stored_messages(database_url: str) -> dict[str, int]:
    """Device code → messages stored: distinct timestamps (Sparkplug) or distinct seq (JSON)."""
    with psycopg.connect(libpq_url(database_url)) as conn:
        rows = conn.execute(
            "SELECT d.code, CASE WHEN d.protocol = 'mqtt_json' THEN count(DISTINCT t.seq) ELSE count(DISTINCT t.ts) END"
            " FROM iot_telemetry t JOIN iot_devices d ON d.id = t.device_id GROUP BY d.code, d.protocol").fetchall()
    return {code: int(count) for code, count in rows}


def left_in_spools(spool_dir: Path, database_url: str) -> Counter[str]:
    """Device code → messages its edge node still kept unacknowledged when it stopped and that are not stored:
    never delivered, and durable (the node replays them after its next birth), so not lost."""
    codes, timestamps = [], []
    for path in spool_dir.glob("*.sqlite"):
        with closing(sqlite3.connect(path)) as spool:
            for code, timestamp_ms in spool.execute("SELECT device_id, timestamp_ms FROM spooled"):
                codes.append(code)
                timestamps.append(timestamp_ms)
    with psycopg.connect(libpq_url(database_url)) as conn:
        rows = conn.execute(
            "SELECT s.code, count(*) FROM unnest(%s::text[], %s::bigint[]) AS s(code, ms) WHERE NOT EXISTS ("
            " SELECT 1 FROM iot_telemetry t JOIN iot_devices d ON d.id = t.device_id"
            " WHERE d.code = s.code AND t.ts = timestamptz 'epoch' + s.ms * interval '1 millisecond')"
            " GROUP BY s.code", (codes, timestamps)).fetchall()
    return Counter({code: int(count) for code, count in rows})


def stored_of_sent(stored: dict[str, int], sent: Counter[str]) -> int:
    """Of the messages sent, how many are stored (polled devices and probes, not counted as sent, left out)."""
    return sum(min(stored.get(code, 0), count) for code, count in sent.items())


def wait_until_drained(database_url: str, sent: Counter[str]) -> None:
    """Until every sent message is stored, or the count stopped growing for a while."""
    expected, last, quiet_since = sum(sent.values()), -1, time.monotonic()
    while time.monotonic() - quiet_since < DRAIN_QUIET_S:
        total = stored_of_sent(stored_messages(database_url), sent)
        if total >= expected:
            return
        if total != last:
            last, quiet_since = total, time.monotonic()
        time.sleep(1)


@dataclass
class Outcome:
    devices: int
    rate: float
    duration: float
    sent: int
    stored_of_sent: int
    stored_at_stop: int  # of the messages sent, stored when the fleet stopped: what the bridge kept up with
    drain_s: float  # from the fleet's stop until everything was stored (or the count stood still)
    lost: int
    unsent: int  # left in the edge spools at the stop, never delivered
    held_back: int  # JSON reports left in the sensors' memory at the stop, never acknowledged by the broker
    polled_stored: int
    alarm_ms: list[float]
    steady_alarm_ms: list[float]
    rebirth_ms: float | None
    events: list[str]
    pgbench: float
    load_before: str
    bridge_cpu_s: float
    broker_cpu_s: float
    simulator_cpu_s: float  # the bench process while the fleet ran (not the alarm probe's process)
    stored_total: int
    primary_host: bool
    refused: dict[str, int]  # the bridge's refusals by reason, at the end of the drain


def refusals(redis_url: str) -> dict[str, int]:
    """What the bridge refused, by reason (``already_stored`` included: a copy acknowledged, not data lost)."""
    with Redis.from_url(redis_url) as redis:
        return {reason.decode(): int(count) for reason, count in redis.hgetall(live.REJECTED).items()}


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def cpu_per_1000(outcome: Outcome) -> float:
    return outcome.bridge_cpu_s * 1000 / outcome.stored_total if outcome.stored_total else 0.0


def latencies(values: list[float]) -> str:
    if len(values) < 2:  # percentiles need two
        return f"{len(values)} crossing(s) observed: {', '.join(f'{v:.0f} ms' for v in values)}"
    return (f"p50 {percentile(values, 0.5):.0f} ms, p95 {percentile(values, 0.95):.0f} ms, "
            f"p99 **{percentile(values, 0.99):.0f} ms** ({len(values)} crossings)")


def report(outcome: Outcome, command: str) -> str:
    per_second = outcome.sent / outcome.duration
    alarm, steady = latencies(outcome.alarm_ms), latencies(outcome.steady_alarm_ms)
    rebirth = f"Rebirth NCMD {outcome.rebirth_ms:.0f} ms after the gap" if outcome.rebirth_ms is not None else "none"
    lines = [
        SECTION, "",
        f"- Command: `{command}`",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine()}; simulator, a private Mosquitto, the bridge, PostgreSQL and Redis all on it",
        f"- Load average when the run started: {outcome.load_before} (the 2 cores are shared with other work)",
        f"- Fleet: {outcome.devices:,} devices of {len(load_device_types())} types at {outcome.rate}/s each "
        f"(Sparkplug B edge nodes, MQTT JSON sensors, Modbus PLCs and OPC UA machines behind edge agents), "
        f"{outcome.duration:.0f} s; edge nodes "
        + ("publish only while the bridge's STATE is online (primary host)" if outcome.primary_host
           else "without primary host (publish whatever the bridge's STATE)"),
        "",
        "| measure | figure | goal |",
        "|---|---|---|",
        f"| messages sent by Sparkplug and JSON devices | {outcome.sent:,} (**{per_second:,.0f} msg/s** over the run) "
        f"| ≥ 5,000/s for 10 min |",
        f"| of those stored in PostgreSQL (counted per device from its sequence) | {outcome.stored_of_sent:,}; "
        f"**lost {outcome.lost:,}** | 0 |",
        f"| of those stored by the time the fleet stopped (end to end while it ran) | {outcome.stored_at_stop:,} "
        f"(**{outcome.stored_at_stop / outcome.duration:,.0f} msg/s**); the rest within {outcome.drain_s:.0f} s "
        f"after the stop | ≥ 5,000/s |",
        f"| of those still in the edge nodes' spools when the fleet stopped, never delivered (durable: replayed "
        f"after the node's next birth; not counted as lost) | {outcome.unsent:,} | — |",
        f"| of those still in the JSON sensors' memory when the simulator stopped, never acknowledged by the "
        f"broker (not handed over; not counted as lost) | {outcome.held_back:,} | — |",
        f"| messages of polled devices (Modbus, OPC UA) stored | {outcome.polled_stored:,} | — |",
        f"| alarm raised, threshold crossing → row in PostgreSQL, under load | {alarm} | p99 ≤ 1 s |",
        f"| the same, leaving out crossings begun within {UNSETTLED_S} s after the fleet's start or a fault | {steady} "
        "| p99 ≤ 1 s |",
        f"| forced seq gap | {rebirth} | Rebirth |",
        f"| bridge CPU (user + system, all its processes) | {outcome.bridge_cpu_s:,.1f} s for "
        f"{outcome.stored_total:,} messages stored: **{cpu_per_1000(outcome):.2f} CPU-s per 1,000** | — |",
        f"| broker CPU (Mosquitto, user + system) | {outcome.broker_cpu_s:,.1f} s: "
        f"**{outcome.broker_cpu_s * 1000 / max(outcome.sent, 1):.2f} CPU-s per 1,000 sent** | — |",
        f"| simulator CPU (the bench process: devices, edge agents, Modbus and OPC UA servers) | "
        f"{outcome.simulator_cpu_s:,.1f} s: **{outcome.simulator_cpu_s / outcome.duration:.0%} of a core** | — |",
        "| refused by the bridge, by reason (copies of stored messages included) | "
        + (", ".join(f"`{reason}` {count:,}" for reason, count in sorted(outcome.refused.items())) or "none")
        + " | — |",
        f"| pgbench TPC-B-like, 8 clients, 20 s (same server, same run) | {outcome.pgbench:,.0f} tps | reference |",
        "",
        "Faults during the run: " + ("; ".join(outcome.events) or "none") + ". Loss counts every message the simulator "
        "handed to MQTT (QoS 1, spooled at the edge while the broker was down) against what the bridge stored.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=1.0, help="reports per device per second")
    parser.add_argument("--duration", type=float, default=600)
    parser.add_argument("--report", type=Path, default=Path("BENCHMARKS.md"))
    parser.add_argument("--faults", choices=FAULTS, default="both",
                        help="which faults to inject: the broker restart, the bridge kill, both or none")
    parser.add_argument("--no-primary-host", action="store_true",
                        help="edge nodes publish whatever the bridge's STATE (its persistent session must keep all)")
    parser.add_argument("--autosave", type=int, default=AUTOSAVE_S,
                        help="the broker's autosave_interval in seconds (it writes its whole store each time)")
    arguments = parser.parse_args()
    load_before = load_average()
    with workspace() as (folder, redis_url):
        database_url = fresh_database(DATABASE)
        plan = plan_fleet(arguments.devices, group_id=GROUP)
        org_id = asyncio.run(prepare(database_url, plan))
        mosquitto = Mosquitto(folder, arguments.autosave)
        mosquitto.start()
        bridge = Bridge(os.environ | {"TRADELOOM_DATABASE_URL": database_url, "TRADELOOM_REDIS_URL": redis_url,
                                      "TRADELOOM_MQTT_URL": f"mqtt://127.0.0.1:{mosquitto.port}"})
        bridge.start()
        wait_until_online(mosquitto.address, f"{GROUP}-bridge-watch", get_settings().iot_host_id)
        probes = Probes()
        options = FleetOptions(broker=mosquitto.address, org_id=org_id, rate=arguments.rate,
                               spool_dir=folder / "spool", base_port=free_port_block(PORT_SPAN), faults=False,
                               primary_host_id=None if arguments.no_primary_host else get_settings().iot_host_id)
        try:
            tune_collector_for_service()  # as `tradeloom simulate-devices` does
            simulator_cpu_before = own_cpu_seconds()
            fleet = asyncio.run(run_load(plan, options, duration=arguments.duration, mosquitto=mosquitto,
                                         bridge=bridge, database_url=database_url, probes=probes,
                                         faulty=arguments.faults))
            simulator_cpu_s = own_cpu_seconds() - simulator_cpu_before
            sent, held_back = fleet.stats.sent, fleet.stats.held_back
            stored_at_stop = stored_of_sent(stored_messages(database_url), sent)
            drain_started = time.monotonic()
            wait_until_drained(database_url, sent)
            drain_s = time.monotonic() - drain_started
            stored = stored_messages(database_url)
            refused = refusals(redis_url)
            unsent = left_in_spools(options.spool_dir, database_url)
        finally:
            bridge.stop()
            mosquitto.stop()
        outcome = Outcome(
            devices=arguments.devices, rate=arguments.rate, duration=arguments.duration, sent=sum(sent.values()),
            stored_of_sent=stored_of_sent(stored, sent), stored_at_stop=stored_at_stop, drain_s=drain_s,
            lost=sum(max(0, count - stored.get(code, 0) - unsent[code] - held_back[code])
                     for code, count in sent.items()),
            unsent=sum(unsent.values()), held_back=sum(held_back.values()),
            polled_stored=sum(stored.get(d.code, 0) for d in plan.devices if d.protocol in (Protocol.MODBUS,
                                                                                           Protocol.OPCUA)),
            alarm_ms=probes.alarm_latencies_ms(), steady_alarm_ms=probes.alarm_latencies_ms(settled_only=True),
            rebirth_ms=probes.rebirth_after_gap_ms, events=probes.events,
            pgbench=pgbench_tps(SERVER_URL), load_before=load_before, bridge_cpu_s=bridge.cpu_seconds,
            broker_cpu_s=mosquitto.cpu_seconds, simulator_cpu_s=simulator_cpu_s,
            stored_total=sum(stored.values()), primary_host=not arguments.no_primary_host, refused=refused)
    command = "python -m loadtest.iot_bench " + " ".join(sys.argv[1:])
    section = report(outcome, command)
    print(section)
    write_section(arguments.report, section, SECTION)


@contextmanager
def workspace() -> Any:
    """A temporary folder (broker persistence, edge spools) and an embedded Redis for the bridge."""
    folder = Path(tempfile.mkdtemp(prefix="tl-iot-bench-"))
    services = EmbeddedServices()
    try:
        yield folder, start_redis(folder, services)
    finally:
        services.stop()
        shutil.rmtree(folder, ignore_errors=True)


async def prepare(database_url: str, plan: FleetPlan) -> uuid.UUID:
    """The demo world (for its supplier), the fleet and the probes in the registry."""
    engine = make_engine(database_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await seed_world(session)
    finally:
        await engine.dispose()
    probes = FleetPlan(GROUP, (SimulatedDevice(PROBE_LATHE, "cnc_lathe", Protocol.SPARKPLUG, "probe"),
                               SimulatedDevice("gap-device", "cnc_lathe", Protocol.SPARKPLUG, GAP_NODE)))
    org_id = await provision(database_url, plan, None)
    await provision(database_url, probes, org_id)
    return org_id


if __name__ == "__main__":
    main()
