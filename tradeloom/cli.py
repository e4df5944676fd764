"""The ``tradeloom`` command: serve, worker, migrate, create-admin, seed-demo, doctor.

Part of the composition root: it may import every package.
"""

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import click
import psycopg
import redis
from sqlalchemy import select

from commerce.orders import seed as order_seed
from tradeloom import migrate, seed
from tradeloom.db import libpq_url, make_engine, make_sessionmaker
from tradeloom.embedded import start_missing
from tradeloom.identity import service as identity
from tradeloom.identity.models import Organization
from tradeloom.identity.roles import OrgKind, Role
from tradeloom.observability import configure_logging
from tradeloom.settings import Settings, get_settings
from tradeloom.worker import run_worker


@click.group()
def main() -> None:
    """Tradeloom: industrial trade platform."""
    configure_logging(get_settings().log_level)


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
            world = asyncio.run(_seed_demo(str(settings.database_url)))
            _print_demo_logins(world)
        metrics_dir = settings.data_dir / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        env = os.environ | {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
        children = [subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "gunicorn", "tradeloom.app:create_app()", "--worker-class",
             "uvicorn_worker.UvicornWorker", "--workers", str(workers), "--bind", f"{host}:{port}",
             "--config", "python:tradeloom.gunicorn_conf", "--graceful-timeout", "10"], env=env)]
        if with_worker:
            children.append(subprocess.Popen([sys.executable, "-m", "tradeloom.cli", "worker"], env=env))
        click.echo(f"Tradeloom is serving on http://{host}:{port}  (Ctrl+C stops it)")
        _supervise(children)


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
    with platform_services():
        run_worker(queues=queues or ("high", "default", "low"), burst=burst)


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
        _print_demo_logins(asyncio.run(_seed_demo(str(settings.database_url))))


async def _seed_demo(database_url: str) -> seed.DemoWorld:
    engine = make_engine(database_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            world = await seed.seed_world(session)
            await order_seed.seed_orders(session, world)
            return world
    finally:
        await engine.dispose()


def _print_demo_logins(world: seed.DemoWorld) -> None:
    click.echo(f"\nDemo logins (password for all: {seed.DEMO_PASSWORD}):")
    for login in world.logins():
        click.echo(f"  {login}")
    click.echo("")


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


if __name__ == "__main__":
    main()
