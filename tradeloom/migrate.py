"""Apply and inspect the Alembic history programmatically (no alembic.ini needed at run time)."""

import importlib.util
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from tradeloom.db import driver_url


def alembic_config(database_url: str) -> Config:
    spec = importlib.util.find_spec("migrations")
    if spec is None or spec.origin is None:
        raise RuntimeError("the migrations package is not installed")
    config = Config()
    config.set_main_option("script_location", str(Path(spec.origin).parent))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Bring the database to ``revision`` (as the owner; creates the app role and policies)."""
    command.upgrade(alembic_config(database_url), revision)


def pending_revisions(database_url: str) -> tuple[set[str], set[str]]:
    """(current revisions, head revisions) of the database; equal when it is up to date.

    Packages add migrations on their own branches off the foundation, so there may be several heads.
    """
    heads = set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())
    engine = create_engine(driver_url(database_url))
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
    return current, heads
