"""Catalogue search: pg_trgm indexes and a word vocabulary for fuzzy matches, per-material search facts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 13:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tradeloom.rls import IS_PLATFORM_ADMIN, grant_app

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRIGRAM = (
    ('ix_materials_name_zh_trgm', 'materials', 'name_zh'),
    ('ix_materials_name_en_trgm', 'materials', 'name_en'),
    ('ix_materials_code_trgm', 'materials', 'code'),
    ('ix_supplier_offers_supplier_part_number_trgm', 'supplier_offers', 'supplier_part_number'),
)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in _TRIGRAM:
        op.create_index(name, table, [column], unique=False, postgresql_using='gin',
                        postgresql_ops={column: 'gin_trgm_ops'})
    op.create_table('material_search_facts',
    sa.Column('material_id', sa.UUID(), nullable=False),
    sa.Column('code', sa.String(length=24), nullable=False),
    sa.Column('class_code', sa.String(length=8), nullable=False),
    sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('best_price', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('supplier_ids', postgresql.ARRAY(sa.UUID()), nullable=False),
    sa.Column('offer_count', sa.Integer(), nullable=False),
    sa.Column('in_stock', sa.Boolean(), nullable=False),
    sa.Column('lead_time_days', sa.Integer(), nullable=True),
    sa.Column('lexemes', postgresql.TSVECTOR(), nullable=True),
    sa.Column('indexed_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_material_search_facts_material_id_materials'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('material_id', name=op.f('pk_material_search_facts'))
    )
    op.create_index('ix_material_search_facts_supplier_ids', 'material_search_facts', ['supplier_ids'], unique=False, postgresql_using='gin')
    op.create_index('ix_material_search_facts_class_code', 'material_search_facts', ['class_code'], unique=False)
    op.create_index('ix_material_search_facts_lexemes', 'material_search_facts', ['lexemes'], unique=False, postgresql_using='gin')
    op.create_table('search_words',
    sa.Column('word', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('word', name=op.f('pk_search_words'))
    )
    op.create_index('ix_search_words_word_trgm', 'search_words', ['word'], unique=False, postgresql_using='gin', postgresql_ops={'word': 'gin_trgm_ops'})
    # Derived data: every member reads it; only the indexing job (platform context) writes it.
    for table in ("material_search_facts", "search_words"):
        grant_app(table, "SELECT, INSERT, UPDATE, DELETE")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY shared_read ON {table} FOR SELECT TO tradeloom_app USING (true)")
        op.execute(f"CREATE POLICY indexer_write ON {table} FOR ALL TO tradeloom_app "
                   f"USING ({IS_PLATFORM_ADMIN}) WITH CHECK ({IS_PLATFORM_ADMIN})")


def downgrade() -> None:
    op.drop_index('ix_search_words_word_trgm', table_name='search_words', postgresql_using='gin')
    op.drop_table('search_words')
    op.drop_index('ix_material_search_facts_class_code', table_name='material_search_facts')
    op.drop_index('ix_material_search_facts_lexemes', table_name='material_search_facts', postgresql_using='gin')
    op.drop_index('ix_material_search_facts_supplier_ids', table_name='material_search_facts', postgresql_using='gin')
    op.drop_table('material_search_facts')
    for name, table, _column in _TRIGRAM:
        op.drop_index(name, table_name=table, postgresql_using='gin')
