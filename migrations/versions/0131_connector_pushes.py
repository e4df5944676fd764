"""Integration: connector pushes (our documents sent to an ERP, once per connector, kind and document).

Revision ID: 0131
Revises: 0130
Create Date: 2026-11-25 18:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tradeloom.rls import enable_tenant_rls

revision: str = '0131'
down_revision: str | None = '0130'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('connector_pushes',
    sa.Column('connector_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('object_id', sa.UUID(), nullable=False),
    sa.Column('document_number', sa.String(length=40), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('external_id', sa.String(length=120), nullable=True),
    sa.Column('last_error', sa.String(length=1000), nullable=True),
    sa.Column('sent_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('updated_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['connector_id'], ['connectors.id'], name=op.f('fk_connector_pushes_connector_id_connectors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connector_pushes'))
    )
    op.create_index('ix_connector_pushes_due', 'connector_pushes', ['status', 'next_attempt_at'], unique=False)
    op.create_index(op.f('ix_connector_pushes_org_id'), 'connector_pushes', ['org_id'], unique=False)
    op.create_index('uq_connector_pushes_document', 'connector_pushes', ['connector_id', 'kind', 'object_id'], unique=True)
    enable_tenant_rls("connector_pushes")


def downgrade() -> None:
    op.drop_index('uq_connector_pushes_document', table_name='connector_pushes')
    op.drop_index(op.f('ix_connector_pushes_org_id'), table_name='connector_pushes')
    op.drop_index('ix_connector_pushes_due', table_name='connector_pushes')
    op.drop_table('connector_pushes')
