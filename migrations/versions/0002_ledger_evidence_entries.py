"""Ledger: the evidence entries every key step records (append-only for the app role).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:33:54.270082+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tradeloom.rls import enable_tenant_rls


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('evidence_entries',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('entry_data', sa.LargeBinary(), nullable=False),
    sa.Column('leaf_hash', sa.LargeBinary(), nullable=False),
    sa.Column('recorded_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('leaf_index', sa.BigInteger(), nullable=True),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_entries')),
    sa.UniqueConstraint('leaf_index', name=op.f('uq_evidence_entries_leaf_index'))
    )
    op.create_index(op.f('ix_evidence_entries_org_id'), 'evidence_entries', ['org_id'], unique=False)
    op.create_index('ix_evidence_entries_subject', 'evidence_entries', ['org_id', 'subject'], unique=False)
    op.create_index('ix_evidence_entries_unsequenced', 'evidence_entries', ['id'], unique=False, postgresql_where=sa.text('leaf_index IS NULL'))
    enable_tenant_rls("evidence_entries", "SELECT, INSERT")


def downgrade() -> None:
    op.drop_index('ix_evidence_entries_unsequenced', table_name='evidence_entries', postgresql_where=sa.text('leaf_index IS NULL'))
    op.drop_index('ix_evidence_entries_subject', table_name='evidence_entries')
    op.drop_index(op.f('ix_evidence_entries_org_id'), table_name='evidence_entries')
    op.drop_table('evidence_entries')
