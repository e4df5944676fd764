"""A scratch database for a benchmark: dropped and re-created, then migrated like production."""

import os

import psycopg

from tradeloom import migrate
from tradeloom.db import libpq_url, with_database

SERVER_URL = os.environ.get("TRADELOOM_BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def database_url(name: str) -> str:
    """The URL of database ``name`` on the benchmark server."""
    return with_database(SERVER_URL, name)


def fresh_database(name: str) -> str:
    """Drop and create ``name``, apply every migration, and return its URL."""
    with psycopg.connect(libpq_url(SERVER_URL), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = database_url(name)
    migrate.upgrade(url)
    return url
