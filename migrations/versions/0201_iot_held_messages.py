"""IoT: Sparkplug messages the bridge holds for their predecessors, saved so they can be acknowledged at once.

Revision ID: 0201
Revises: 0200
Create Date: 2026-11-26 20:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tradeloom.rls import enable_tenant_rls

revision: str = '0201'
down_revision: str | None = '0200'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('iot_held_messages',
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('edge_node_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('topic', sa.Text(), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('held_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.PrimaryKeyConstraint('group_id', 'edge_node_id', 'seq', name=op.f('pk_iot_held_messages'))
    )
    op.create_index(op.f('ix_iot_held_messages_org_id'), 'iot_held_messages', ['org_id'], unique=False)
    enable_tenant_rls('iot_held_messages', 'SELECT')  # written by the bridge (owner) only


def downgrade() -> None:
    op.drop_index(op.f('ix_iot_held_messages_org_id'), table_name='iot_held_messages')
    op.drop_table('iot_held_messages')
