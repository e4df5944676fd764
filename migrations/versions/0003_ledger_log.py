"""Ledger log: tree nodes, signed checkpoints, sequencer state, and the public view of sequenced leaves.

The app role may only read these (platform-wide, no tenant policy); the sequencer writes as owner.
``ledger_leaves`` runs with its owner's rights, so it shows every *sequenced* entry to anyone while
``evidence_entries`` itself stays confined to each organization by row-level security.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 12:39:06.439215+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tradeloom.rls import grant_app


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ledger_checkpoints',
    sa.Column('tree_size', sa.BigInteger(), nullable=False),
    sa.Column('root_hash', sa.LargeBinary(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('tree_size', name=op.f('pk_ledger_checkpoints'))
    )
    op.create_table('ledger_sequencer_state',
    sa.Column('singleton', sa.Boolean(), nullable=False),
    sa.Column('tree_size', sa.BigInteger(), nullable=False),
    sa.Column('frontier', postgresql.ARRAY(sa.LargeBinary()), nullable=False),
    sa.Column('updated_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.CheckConstraint('singleton', name=op.f('ck_ledger_sequencer_state_one_row')),
    sa.PrimaryKeyConstraint('singleton', name=op.f('pk_ledger_sequencer_state'))
    )
    op.create_table('ledger_tree_nodes',
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('index', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.LargeBinary(), nullable=False),
    sa.CheckConstraint('level > 0', name=op.f('ck_ledger_tree_nodes_above_leaves')),
    sa.PrimaryKeyConstraint('level', 'index', name=op.f('pk_ledger_tree_nodes'))
    )
    op.execute("""
        CREATE VIEW ledger_leaves AS
        SELECT leaf_index, id AS entry_id, kind, subject, entry_data, leaf_hash
        FROM evidence_entries WHERE leaf_index IS NOT NULL
    """)
    for name in ('ledger_checkpoints', 'ledger_sequencer_state', 'ledger_tree_nodes', 'ledger_leaves'):
        grant_app(name, 'SELECT')


def downgrade() -> None:
    op.execute('DROP VIEW ledger_leaves')
    op.drop_table('ledger_tree_nodes')
    op.drop_table('ledger_sequencer_state')
    op.drop_table('ledger_checkpoints')
