"""The one Alembic history of the whole database."""
