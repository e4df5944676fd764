"""Ledger: files registered as evidence by salted digest (design IP, certificates); tenant rows, append-only.

Revision ID: 0013
Revises: 0003
Create Date: 2026-11-25 14:16:22.194637+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tradeloom.rls import enable_tenant_rls


revision: str = '0013'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('evidence_files',
    sa.Column('entry_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('salt', sa.LargeBinary(), nullable=False),
    sa.Column('stored_path', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.PrimaryKeyConstraint('entry_id', name=op.f('pk_evidence_files'))
    )
    op.create_index(op.f('ix_evidence_files_org_id'), 'evidence_files', ['org_id'], unique=False)
    enable_tenant_rls("evidence_files", "SELECT, INSERT")


def downgrade() -> None:
    op.drop_index(op.f('ix_evidence_files_org_id'), table_name='evidence_files')
    op.drop_table('evidence_files')
