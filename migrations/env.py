"""Alembic environment: runs as the database owner, so it may create roles, policies and functions."""

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from migrations.models import target_metadata
from tradeloom.db import driver_url
from tradeloom.jobs import require_url
from tradeloom.settings import get_settings

config = context.config


def database_url() -> str:
    return config.attributes.get("database_url") or require_url(get_settings().database_url, "DATABASE_URL")


def run_migrations_offline() -> None:
    context.configure(url=driver_url(database_url()), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(driver_url(database_url()), poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_server_default=False)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
