"""The ``tradeloom`` command: serve, worker, migrate, create-admin, seed-demo, doctor, ledger.

Part of the composition root: it may import every package.
"""

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import click
import psycopg
import redis
from pydantic import ValidationError
from sqlalchemy import select

from catalog import jobs as catalog_jobs
from commerce.logistics import jobs as logistics_jobs
from commerce.qualifications import expiry as qualification_expiry
from commerce.settlement import overdue as settlement_overdue
from integrations.connectors import jobs as connector_jobs
from integrations.edi.folder import watch_folder
from iot_bridge import service_main as iot_service
from iot_bridge.edge.agent import run_edge_agent
from iot_bridge.edge.config import load_edge_config
from iot_bridge.edge.mqtt import DEFAULT_MQTT_URL, BrokerAddress
from iot_bridge.embedded_broker import EMBEDDED_MQTT_URL
from iot_bridge.running import until_stopped
from iot_bridge.simulator.command import provision, run_fleet
from iot_bridge.simulator.fleet import plan_fleet
from iot_bridge.simulator.runner import FleetOptions
from ledger import verify_cli
from ledger.audit import audit_log
from ledger.checkpoint import CheckpointError, VerifierKey
from ledger.sequencer import run_sequencer, sequence_waiting
from ledger.signing import log_signer
from tradeloom import migrate, seed
from tradeloom.composition import print_demo_logins, seed_demo_world, subscribe_consumers
from tradeloom.db import libpq_url, make_engine, make_sessionmaker
from tradeloom.embedded import start_missing
from tradeloom.gc_tuning import tune_collector_for_service
from tradeloom.identity import service as identity
from tradeloom.identity.models import Organization
from tradeloom.identity.roles import OrgKind, Role
from tradeloom.jobs import sync_engine
from tradeloom.observability import configure_logging
from tradeloom.settings import Settings, get_settings
from tradeloom.worker import run_worker


@click.group()
def main() -> None:
    """Tradeloom: industrial trade platform."""
    configure_logging(get_settings().log_level)
    catalog_jobs.subscribe_jobs()


@contextmanager
def platform_services() -> Iterator[Settings]:
    """Settings whose URLs point at running servers: the configured ones, else embedded ones we start."""
    settings = get_settings()
    services = start_missing(settings.data_dir, database_url=settings.database_url, redis_url=settings.redis_url)
    # Child processes (gunicorn, worker) find the servers through the same variables.
    os.environ["TRADELOOM_DATABASE_URL"] = str(services.database_url)
    os.environ["TRADELOOM_REDIS_URL"] = str(services.redis_url)
    get_settings.cache_clear()
    get_settings().signing_secret()  # made once here, before several processes could race to make it
    log_signer(get_settings())  # likewise the evidence log's key (outside production)
    try:
        yield get_settings()
    finally:
        services.stop()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn (uvicorn) worker processes")
@click.option("--demo/--no-demo", default=False, help="load the demo world once before serving")
@click.option("--with-worker/--without-worker", default=True, help="also run `tradeloom worker` alongside")
def serve(host: str, port: int, workers: int, demo: bool, with_worker: bool) -> None:
    """Migrate, then serve the web app and API under gunicorn with uvicorn workers."""
    with platform_services() as settings:
        migrate.upgrade(str(settings.database_url))
        if demo:
            world = asyncio.run(seed_demo_world(str(settings.database_url), settings.signing_secret()))
            print_demo_logins(world)
        metrics_dir = settings.data_dir / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        env = os.environ | {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
        children = [subprocess.Popen(gunicorn_command(host, port, workers), env=env)]  # noqa: S603
        if with_worker:
            children.append(subprocess.Popen([sys.executable, "-m", "tradeloom.cli", "worker"], env=env))
        children += _iot_processes(env, demo=demo, embedded_broker=settings.mqtt_url is None)
        click.echo(f"Tradeloom is serving on http://{host}:{port}  (Ctrl+C stops it)")
        _supervise(children)


def gunicorn_command(host: str, port: int, workers: int) -> list[str]:
    """The web app under gunicorn with uvicorn workers and ``tradeloom.gunicorn_conf``."""
    return [sys.executable, "-m", "gunicorn", "tradeloom.app:create_app()", "--worker-class",
            "uvicorn_worker.UvicornWorker", "--workers", str(workers), "--bind", f"{host}:{port}",
            "--config", "python:tradeloom.gunicorn_conf", "--graceful-timeout", "10"]


def _iot_processes(env: dict[str, str], *, demo: bool, embedded_broker: bool) -> list[subprocess.Popen[bytes]]:
    """The IoT bridge; with no MQTT URL also the embedded broker and, for the demo, a small simulated fleet."""
    processes = []
    if embedded_broker:
        env["TRADELOOM_MQTT_URL"] = EMBEDDED_MQTT_URL
        processes.append(subprocess.Popen([sys.executable, "-m", "iot_bridge.embedded_broker"], env=env))
        if demo:
            processes.append(subprocess.Popen([sys.executable, "-m", "tradeloom.cli", "simulate-devices",
                                               "--devices", "300", "--rate", "0.2"], env=env))
    processes.append(subprocess.Popen([sys.executable, "-m", "tradeloom.cli", "iot-bridge"], env=env))
    return processes


def _supervise(children: list[subprocess.Popen[bytes]]) -> None:
    """Wait until a child exits or we are told to stop; then stop them all."""
    stop = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    while not stop and all(child.poll() is None for child in children):
        time.sleep(0.5)
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()


@main.command()
@click.option("--burst", is_flag=True, help="exit when the queues are empty")
@click.option("--queue", "queues", multiple=True, help="queues to work (default: high, default, low)")
def worker(burst: bool, queues: tuple[str, ...]) -> None:
    """Run the outbox dispatcher and an RQ worker."""
    with platform_services() as settings:
        subscribe_consumers(settings)
        sequencer = partial(run_sequencer, sync_engine(), log_signer(settings), batch_size=settings.ledger_batch_size,
                            poll_seconds=settings.ledger_poll_seconds)
        scheduler = partial(connector_jobs.run_scheduler, sync_engine())
        run_worker(queues=queues or ("high", "default", "low"), burst=burst,
                   loops=[("ledger-sequencer", sequencer), ("connector-scheduler", scheduler),
                          ("reservation-expiry", logistics_jobs.run_reservation_expiry),
                          ("invoice-overdue", settlement_overdue.run_overdue_check),
                          ("qualification-expiry", qualification_expiry.run_expiry_check)])


@main.command("migrate")
def migrate_command() -> None:
    """Apply all database migrations."""
    with platform_services() as settings:
        migrate.upgrade(str(settings.database_url))
        click.echo("database is at the latest revision")


@main.command("seed-demo")
def seed_demo() -> None:
    """Load the demo world (idempotent) and print its logins."""
    with platform_services() as settings:
        migrate.upgrade(str(settings.database_url))
        print_demo_logins(asyncio.run(seed_demo_world(str(settings.database_url), settings.signing_secret())))


@main.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", "display_name", default="Platform admin", show_default=True)
@click.password_option()
def create_admin(email: str, display_name: str, password: str) -> None:
    """Create a platform administrator in the platform operator organization."""
    with platform_services() as settings:
        migrate.upgrade(str(settings.database_url))
        asyncio.run(_create_admin(str(settings.database_url), email, display_name, password))
        click.echo(f"platform admin {email} created")


async def _create_admin(database_url: str, email: str, display_name: str, password: str) -> None:
    engine = make_engine(database_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            operator_id = await session.scalar(
                select(Organization.id).where(Organization.kind == OrgKind.PLATFORM_OPERATOR.value)
            )
            if operator_id is None:
                operator_id = await seed.ensure_organization(session, seed.COMPANIES[0])
            user = await identity.create_user(session, email=email, display_name=display_name, password=password)
            await identity.add_member(session, org_id=operator_id, user_id=user.id, roles=[Role.PLATFORM_ADMIN])
    finally:
        await engine.dispose()


@main.group()
def catalog() -> None:
    """The unified material catalogue."""


@catalog.command("reindex")
def catalog_reindex() -> None:
    """Rebuild the search entries of every material (PostgreSQL, or OpenSearch when TRADELOOM_SEARCH_URL is set)."""
    with platform_services() as settings:
        migrate.upgrade(str(settings.database_url))
        started = time.monotonic()
        indexed = asyncio.run(_reindex(settings))
        click.echo(f"{indexed} searchable materials indexed in {time.monotonic() - started:.1f} s")


async def _reindex(settings: Settings) -> int:
    engine = make_engine(str(settings.database_url), pool_size=2)
    try:
        return await catalog_jobs.reindex_everything(make_sessionmaker(engine), settings)
    finally:
        await engine.dispose()


@main.command()
def doctor() -> None:
    """Check the database, Redis and migrations, and say what is wrong."""
    problems: list[str] = []
    with platform_services() as settings:
        database_url = str(settings.database_url)
        try:
            with psycopg.connect(libpq_url(database_url), connect_timeout=3) as conn:
                version = conn.execute("SHOW server_version").fetchone()
                click.echo(f"database   ok  PostgreSQL {version[0] if version else '?'}")
                if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'tradeloom_app'").fetchone() is None:
                    problems.append("the app role tradeloom_app is missing: run `tradeloom migrate`")
            current, heads = migrate.pending_revisions(database_url)
            if current != heads:
                problems.append(f"migrations: database at {sorted(current)}, code at {sorted(heads)}: "
                                "run `tradeloom migrate`")
            else:
                click.echo(f"migrations ok  at {', '.join(sorted(heads))}")
        except psycopg.Error as exc:
            problems.append(f"database unreachable at {database_url}: {exc}")
        try:
            redis.Redis.from_url(str(settings.redis_url), socket_connect_timeout=3).ping()
            click.echo("redis      ok")
        except redis.RedisError as exc:
            problems.append(f"redis unreachable at {settings.redis_url}: {exc}")
        if settings.secret_key is None and settings.is_production:
            problems.append("TRADELOOM_SECRET_KEY is not set (required in production)")
    for problem in problems:
        click.echo(f"PROBLEM    {problem}", err=True)
    sys.exit(1 if problems else 0)


@main.group()
def ledger() -> None:
    """The evidence log: verify bundles offline, sequence entries, audit the stored log."""


@ledger.command("verify")
@click.argument("bundle", type=click.Path(dir_okay=False))
@click.option("--file", "file_path", type=click.Path(dir_okay=False), help="the original file (salted digest)")
@click.option("--key", help="the log's verifier key from a trusted source")
def ledger_verify(bundle: str, file_path: str | None, key: str | None) -> None:
    """Verify an evidence bundle offline (no server, no database); exit 0 verified, 1 not, 2 unreadable."""
    argv = [bundle, *(["--file", file_path] if file_path else []), *(["--key", key] if key else [])]
    sys.exit(verify_cli.main(argv))


@ledger.command("sequence")
@click.option("--once", is_flag=True, help="sequence what is waiting now, then exit")
def ledger_sequence(once: bool) -> None:
    """Number waiting entries into the log and sign checkpoints (one active sequencer across all hosts)."""
    with platform_services() as settings:
        signer, engine = log_signer(settings), sync_engine()
        if not once:
            run_sequencer(engine, signer, batch_size=settings.ledger_batch_size,
                          poll_seconds=settings.ledger_poll_seconds)
            return
        batches = sequence_waiting(engine, signer, batch_size=settings.ledger_batch_size)
        if batches:
            click.echo(f"sequenced {sum(b.entries for b in batches)} entries in {len(batches)} batch(es); "
                       f"tree size {batches[-1].tree_size}, root {batches[-1].root_hash.hex()}")
        else:
            click.echo("nothing to sequence (or another sequencer is at work)")


@ledger.command("audit")
@click.option("--key", help="the verifier key to check signatures with (default: the configured log key)")
def ledger_audit(key: str | None) -> None:
    """Re-derive the stored log and check every signature and hash; exit 1 on any problem."""
    with platform_services() as settings:
        signer = log_signer(settings)
        try:
            verifier_key = VerifierKey.parse(key) if key else signer.verifier_key
        except CheckpointError as error:
            raise click.BadParameter(str(error), param_hint="--key") from error
        with sync_engine().connect() as conn:
            report = audit_log(conn, verifier_key, origin=signer.origin)
    for checked in report.checked:
        click.echo(f"checked  {checked}")
    for problem in report.problems:
        click.echo(f"PROBLEM  {problem}", err=True)
    click.echo("log is intact" if report.ok else f"{len(report.problems)} problem(s) found")
    sys.exit(0 if report.ok else 1)


@main.command("edi-folder")
@click.option("--root", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="the watched folder: one sub-folder per organization id (see docs/edi.md)")
@click.option("--once", is_flag=True, help="exchange once and exit (for cron)")
@click.option("--interval", default=10.0, show_default=True, help="seconds between exchanges")
def edi_folder(root: Path, once: bool, interval: float) -> None:
    """Take EDI interchanges from the watched folder and write ours to it (SFTP deployment: docs/edi.md)."""
    with platform_services() as settings:
        asyncio.run(watch_folder(str(settings.database_url), root, once=once, interval_seconds=interval,
                                 report=click.echo))


@main.command("edge-agent")
@click.option("--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="the agent's YAML file: Sparkplug ids, spool, Modbus and OPC UA devices (docs/iot-edge.md)")
def edge_agent(config_path: Path) -> None:
    """Poll Modbus TCP and subscribe OPC UA devices; publish Sparkplug B upstream, spooling through outages."""
    try:
        config = load_edge_config(config_path)
    except (ValueError, ValidationError) as error:
        raise click.BadParameter(str(error), param_hint="--config") from error
    broker = BrokerAddress.from_url(config.broker_url or get_settings().mqtt_url or DEFAULT_MQTT_URL)
    tune_collector_for_service()
    asyncio.run(until_stopped(run_edge_agent(config, broker)))


@main.command("simulate-devices")
@click.option("--devices", default=300, show_default=True, type=click.IntRange(1, 20_000))
@click.option("--rate", default=1.0, show_default=True, type=click.FloatRange(0.01, 50), help="reports per device a s")
@click.option("--duration", type=click.FloatRange(min=1), help="seconds to run (default: until Ctrl+C)")
@click.option("--org", "org_id", type=click.UUID, help="owner of the devices (default: the first supplier)")
@click.option("--group", "group_id", default="sim", show_default=True, help="Sparkplug group id and device code stem")
@click.option("--base-port", default=15020, show_default=True, type=int, help="first simulated Modbus server port")
@click.option("--faults/--no-faults", default=True, help="faults and short disconnections")
def simulate_devices(devices: int, rate: float, duration: float | None, org_id: uuid.UUID | None, group_id: str,
                     base_port: int, faults: bool) -> None:
    """Run a simulated fleet of all device types over Sparkplug B, MQTT JSON, Modbus TCP and OPC UA."""
    plan = plan_fleet(devices, group_id=group_id)
    with platform_services() as settings:
        migrate.upgrade(str(settings.database_url))
        org = asyncio.run(provision(str(settings.database_url), plan, org_id))
    options = FleetOptions(broker=BrokerAddress.from_url(settings.mqtt_url or DEFAULT_MQTT_URL), org_id=org,
                           rate=rate, spool_dir=settings.data_dir / "simulator", base_port=base_port, faults=faults,
                           primary_host_id=settings.iot_host_id)
    click.echo(f"simulating {devices} devices at {rate}/s each for organization {org}  (Ctrl+C stops)")
    tune_collector_for_service()
    asyncio.run(run_fleet(plan, options, duration=duration, report=lambda stats, elapsed: click.echo(
        f"{elapsed:7.0f} s  sent {stats.total_sent():>10}  ({stats.total_sent() / max(elapsed, 1):.0f}/s)")))


@main.group("iot-bridge", invoke_without_command=True)
@click.pass_context
def iot_bridge(context: click.Context) -> None:
    """Run the IoT host application (Sparkplug B + JSON over MQTT at TRADELOOM_MQTT_URL)."""
    if context.invoked_subcommand is None:
        with platform_services() as settings:
            tune_collector_for_service()
            asyncio.run(iot_service.run_bridge(settings))


@iot_bridge.command("broker-files")
@click.argument("directory", type=click.Path(file_okay=False, writable=True))
def iot_broker_files(directory: str) -> None:
    """Write Mosquitto password and ACL files from the device registry into DIRECTORY."""
    with platform_services() as settings:
        written = asyncio.run(iot_service.write_broker_files(settings, Path(directory)))
    click.echo("\n".join(str(path) for path in written))


if __name__ == "__main__":
    main()
