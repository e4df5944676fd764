"""Search GIN indexes without a pending list (fastupdate off), the lists there flushed; facts by class.

With ``fastupdate`` on, new index entries wait in an unsorted pending list until VACUUM (or 4 MB) and every
search reads the whole list and tests each entry: after a bulk load that was 84 pages and 2,634 tuples on
the lexemes index and ~400 pages on each trigram index (docs/search.md, "Performance").

Revision ID: 0100
Revises: 0099
Create Date: 2026-11-25 18:45:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0100'
down_revision: str | None = '0099'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_GIN_INDEXES = (
    'ix_material_search_facts_lexemes',
    'ix_material_search_facts_supplier_ids',
    'ix_search_words_word_trgm',
    'ix_materials_search_vector',
    'ix_materials_name_zh_trgm',
    'ix_materials_name_en_trgm',
    'ix_materials_code_trgm',
    'ix_supplier_offers_supplier_part_number_trgm',
)


def upgrade() -> None:
    for name in SEARCH_GIN_INDEXES:
        op.execute(f"ALTER INDEX {name} SET (fastupdate = off)")
        op.execute(f"SELECT gin_clean_pending_list('{name}'::regclass)")
    # The facts laid out by class: a broad word's hits share a few classes, so a few heap pages (2,417 → 202
    # pages for 螺栓 on 100,000 materials). Rewrites the table once (seconds at 100,000 rows); a reindex
    # writes in class order, and `CLUSTER material_search_facts` restores the order later.
    op.execute("ALTER TABLE material_search_facts CLUSTER ON ix_material_search_facts_class_code")
    op.execute("CLUSTER material_search_facts")


def downgrade() -> None:
    op.execute("ALTER TABLE material_search_facts SET WITHOUT CLUSTER")
    for name in SEARCH_GIN_INDEXES:
        op.execute(f"ALTER INDEX {name} RESET (fastupdate)")
