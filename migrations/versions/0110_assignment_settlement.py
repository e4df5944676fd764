"""Receivable assignments are settled by the buyer's payments redirected to the financier.

``paid_amount`` counts what reached the financier since the assignment (bank transfer, card, escrow release,
the buyer's settlement); ``settled_at`` is when it covered the assigned amount. Whoever books such a payment
(the supplier importing its statement, the buyer, a job) updates the row, so every party may update it.

Revision ID: 0110
Revises: 0099
Create Date: 2026-11-25 18:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tradeloom.rls import CURRENT_ORG

revision: str = '0110'
down_revision: str | None = '0099'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTIES = f"org_id = {CURRENT_ORG} OR buyer_org_id = {CURRENT_ORG} OR financier_org_id = {CURRENT_ORG}"


def _update_policy(using: str) -> None:
    op.execute("DROP POLICY parties_update ON receivable_assignments")
    op.execute(f"CREATE POLICY parties_update ON receivable_assignments FOR UPDATE TO tradeloom_app "
               f"USING ({using}) WITH CHECK ({using})")


def upgrade() -> None:
    op.add_column('receivable_assignments', sa.Column('paid_amount', sa.Numeric(precision=18, scale=4),
                                                      server_default='0', nullable=False))
    op.alter_column('receivable_assignments', 'paid_amount', server_default=None)
    op.add_column('receivable_assignments', sa.Column('settled_at', sa.TIMESTAMP(timezone=True), nullable=True))
    _update_policy(PARTIES)


def downgrade() -> None:
    _update_policy(f"buyer_org_id = {CURRENT_ORG}")
    op.drop_column('receivable_assignments', 'settled_at')
    op.drop_column('receivable_assignments', 'paid_amount')
