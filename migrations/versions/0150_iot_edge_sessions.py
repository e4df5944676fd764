"""IoT: the bridge's Sparkplug sessions per edge node, so a restart decodes what the broker kept for it.

Revision ID: 0150
Revises: 0099
Create Date: 2026-11-25 18:15:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tradeloom.rls import enable_tenant_rls

revision: str = '0150'
down_revision: str | None = '0099'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('iot_edge_sessions',
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('edge_node_id', sa.String(length=64), nullable=False),
    sa.Column('bd_seq', sa.BigInteger(), nullable=False),
    sa.Column('expected_seq', sa.Integer(), nullable=False),
    sa.Column('online', sa.Boolean(), nullable=False),
    sa.Column('node_birth', sa.LargeBinary(), nullable=False),
    sa.Column('device_births', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('updated_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.PrimaryKeyConstraint('group_id', 'edge_node_id', name=op.f('pk_iot_edge_sessions'))
    )
    op.create_index(op.f('ix_iot_edge_sessions_org_id'), 'iot_edge_sessions', ['org_id'], unique=False)
    enable_tenant_rls('iot_edge_sessions', 'SELECT')  # written by the bridge (owner) only


def downgrade() -> None:
    op.drop_index(op.f('ix_iot_edge_sessions_org_id'), table_name='iot_edge_sessions')
    op.drop_table('iot_edge_sessions')
