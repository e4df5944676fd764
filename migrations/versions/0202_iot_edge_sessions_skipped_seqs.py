"""IoT: the seqs a Sparkplug session went past as a gap, saved so a restarted bridge still takes them late.

Revision ID: 0202
Revises: 0201
Create Date: 2026-11-27 05:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0202'
down_revision: str | None = '0201'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('iot_edge_sessions', sa.Column('skipped_seqs', postgresql.ARRAY(sa.SmallInteger()),
                                                 server_default='{}', nullable=False))


def downgrade() -> None:
    op.drop_column('iot_edge_sessions', 'skipped_seqs')
