"""Webhook signing secrets encrypted at rest, like connector credentials (migration 0130): each stored secret
sealed with AES-256-GCM under the current ``TRADELOOM_SECRETS_KEY`` (or the development key kept in the data
dir), bound to its subscription. The column widens to hold the sealed form.

The context string is a frozen copy of ``integrations.webhooks.service.secret_context`` (migrations import no
domain code). Downgrade opens the secrets again (the key must still be configured).

Revision ID: 0200
Revises: 0199
Create Date: 2026-11-26 02:00:00+00:00
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from tradeloom.secret_box import SecretBox, is_sealed
from tradeloom.settings import get_settings

revision: str = '0200'
down_revision: str | None = '0199'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_subscriptions = sa.table("webhook_subscriptions", sa.column("id", sa.Uuid), sa.column("secret", sa.String))


def _rewrite(change: Callable[[SecretBox, str, str], str]) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(_subscriptions.c.id, _subscriptions.c.secret)).all()
    if not rows:
        return  # a fresh database needs no key
    box = SecretBox.from_keyring(get_settings().secrets_keyring())
    for subscription_id, secret in rows:
        connection.execute(sa.update(_subscriptions).where(_subscriptions.c.id == subscription_id)
                           .values(secret=change(box, secret, f"webhook:{subscription_id}:secret")))


def upgrade() -> None:
    op.alter_column("webhook_subscriptions", "secret", type_=sa.String(300), existing_type=sa.String(100))
    _rewrite(lambda box, value, context: value if is_sealed(value) else box.seal(value, context=context))


def downgrade() -> None:
    _rewrite(lambda box, value, context: box.open(value, context=context) if is_sealed(value) else value)
    op.alter_column("webhook_subscriptions", "secret", type_=sa.String(100), existing_type=sa.String(300))
