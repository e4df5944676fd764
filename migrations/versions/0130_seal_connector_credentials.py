"""Connector credentials encrypted at rest: every stored value sealed with AES-256-GCM (``tradeloom.secret_box``)
under the current ``TRADELOOM_SECRETS_KEY`` (or the development key kept in the data dir).

The context string is a frozen copy of ``integrations.connectors.secrets`` (migrations import no domain code).
Downgrade opens the values again (the key must still be configured).

Revision ID: 0130
Revises: 0099
Create Date: 2026-11-25 18:30:00+00:00
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from tradeloom.secret_box import SecretBox, is_sealed
from tradeloom.settings import get_settings

revision: str = '0130'
down_revision: str | None = '0099'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_connectors = sa.table("connectors", sa.column("id", sa.Uuid), sa.column("credentials", sa.JSON))


def _rewrite(change: Callable[[SecretBox, str, str], str]) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(_connectors.c.id, _connectors.c.credentials)).all()
    if not rows:
        return  # a fresh database needs no key
    box = SecretBox.from_keyring(get_settings().secrets_keyring())
    for connector_id, credentials in rows:
        rewritten = {name: change(box, value, f"connector:{connector_id}:{name}")
                     for name, value in (credentials or {}).items()}
        connection.execute(sa.update(_connectors).where(_connectors.c.id == connector_id)
                           .values(credentials=rewritten))


def upgrade() -> None:
    _rewrite(lambda box, value, context: value if is_sealed(value) else box.seal(value, context=context))


def downgrade() -> None:
    _rewrite(lambda box, value, context: box.open(value, context=context) if is_sealed(value) else value)
