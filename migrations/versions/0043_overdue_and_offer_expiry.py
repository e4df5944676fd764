"""invoice overdue mark, finance offer expiry

Revision ID: 0043
Revises: 0042
Create Date: 2026-11-25 16:35:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0043'
down_revision: str | None = '0042'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('invoices', sa.Column('overdue_since', sa.Date(), nullable=True))
    op.add_column('finance_offers', sa.Column('expires_on', sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column('finance_offers', 'expires_on')
    op.drop_column('invoices', 'overdue_since')
