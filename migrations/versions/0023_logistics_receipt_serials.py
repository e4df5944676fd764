"""Logistics: a goods receipt line names the accepted serial numbers of serial-tracked goods

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-25 16:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('goods_receipt_lines', sa.Column('serials', postgresql.JSONB(astext_type=sa.Text()),
                                                   server_default=sa.text("'[]'::jsonb"), nullable=False))


def downgrade() -> None:
    op.drop_column('goods_receipt_lines', 'serials')
