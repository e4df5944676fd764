"""Process entry points behind ``tradeloom iot-bridge`` (the CLI wrappers live in ``tradeloom/cli.py``)."""

import asyncio
import datetime as dt
import logging
import signal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iot_bridge.bridge.runner import Bridge
from iot_bridge.credentials import hash_mqtt_password, password_file
from iot_bridge.edge.mqtt import BrokerAddress
from iot_bridge.models import Device, EdgeNode
from iot_bridge.plain_topics import TopicKind, plain_topic
from iot_bridge.running import until_done
from iot_bridge.telemetry import drop_expired_partitions, ensure_partitions
from tradeloom.db import make_engine, make_sessionmaker, utcnow
from tradeloom.jobs import async_redis, require_url
from tradeloom.settings import Settings

log = logging.getLogger(__name__)
RETENTION_CHECK_SECONDS = 3600


async def run_bridge(settings: Settings) -> None:
    """Ingest until SIGINT/SIGTERM; day partitions are made ahead and expired ones dropped every hour."""
    broker = BrokerAddress.from_url(require_url(settings.mqtt_url, "MQTT_URL"))
    engine = make_engine(require_url(settings.database_url, "DATABASE_URL"), pool_size=settings.iot_shards + 2)
    sessionmaker = make_sessionmaker(engine)
    redis = async_redis(settings.redis_url)
    stop = asyncio.Event()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(stop_signal, stop.set)
    retention = asyncio.create_task(keep_partitions(sessionmaker, settings, stop))
    try:
        await Bridge(settings, sessionmaker, redis, broker).run(stop)
    finally:
        retention.cancel()
        await redis.aclose()
        await engine.dispose()


async def keep_partitions(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                          stop: asyncio.Event) -> None:
    """Every hour until ``stop``: make the days ahead, drop the expired ones. A database that is away is
    waited for: an upkeep ended by the error would leave the bridge without partitions for the days to come."""
    while not stop.is_set():
        dropped = await until_done(lambda: _upkeep(sessionmaker, settings), log=log,
                                   failure="iot telemetry partitions could not be kept; retrying")
        if dropped:
            log.info("iot telemetry partitions dropped", extra={"partitions": dropped})
        try:
            async with asyncio.timeout(RETENTION_CHECK_SECONDS):  # not wait_for: it can drop a cancellation
                await stop.wait()
        except TimeoutError:
            continue


async def _upkeep(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> list[str]:
    today = utcnow().date()
    async with sessionmaker() as session, session.begin():
        await ensure_partitions(session, today=today, retention_days=settings.iot_telemetry_retention_days)
        return await drop_expired_partitions(session, today=today,
                                             retention_days=settings.iot_telemetry_retention_days)


async def write_broker_files(settings: Settings, directory: Path) -> tuple[Path, Path]:
    """Mosquitto ``password_file`` and ``acl_file`` from the registry: the broker enforces who may publish where."""
    engine = make_engine(require_url(settings.database_url, "DATABASE_URL"), pool_size=1)
    async with make_sessionmaker(engine)() as session:
        edges = (await session.execute(select(EdgeNode.mqtt_username, EdgeNode.mqtt_password_hash,
                                              EdgeNode.group_id))).all()
        devices = (await session.execute(
            select(Device.mqtt_username, Device.mqtt_password_hash, Device.org_id, Device.code)
            .where(Device.mqtt_username.is_not(None))
        )).all()
    await engine.dispose()
    acl = [f"# written by tradeloom iot-bridge broker-files at {dt.datetime.now(dt.UTC).isoformat()}"]
    accounts = [(str(row[0]), str(row[1])) for row in [*edges, *devices]]
    bridge = BrokerAddress.from_url(settings.mqtt_url) if settings.mqtt_url else None
    if bridge is not None and bridge.username:
        acl += [f"user {bridge.username}", "topic readwrite #"]
        if bridge.password:  # the bridge signs in like every other client of the broker
            accounts.insert(0, (bridge.username, hash_mqtt_password(bridge.password)))
    for username, _, group_id in edges:
        acl += [f"user {username}", f"topic readwrite spBv1.0/{group_id}/#", "topic read spBv1.0/STATE/#"]
    for device_user, _, org_id, code in devices:
        acl += [f"user {device_user}", *(f"topic write {plain_topic(org_id, code, kind)}" for kind in
                                      (TopicKind.TELEMETRY, TopicKind.ATTRIBUTES, TopicKind.COMMAND_ACK)),
                f"topic read {plain_topic(org_id, code, TopicKind.COMMANDS)}"]
    passwords, acl_path = directory / "tradeloom.passwd", directory / "tradeloom.acl"
    passwords.write_text(password_file(accounts))
    passwords.chmod(0o600)
    acl_path.write_text("\n".join(acl) + "\n")
    return passwords, acl_path
