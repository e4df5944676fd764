"""Catalogue governance: import jobs, the duplicate review queue, moving references on a merge, code blocks.

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-25 12:45:52.932132+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tradeloom.rls import CURRENT_ORG, IS_PLATFORM_ADMIN, enable_tenant_rls, grant_app

revision: str = '0008'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('catalog_imports',
    sa.Column('created_by_user_id', sa.UUID(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('file_format', sa.String(length=8), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('encoding', sa.String(length=16), nullable=True),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('processed_rows', sa.Integer(), nullable=False),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('created_count', sa.Integer(), nullable=False),
    sa.Column('report', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('started_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('finished_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('updated_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_imports'))
    )
    op.create_index(op.f('ix_catalog_imports_org_id'), 'catalog_imports', ['org_id'], unique=False)
    op.create_table('material_duplicate_candidates',
    sa.Column('first_material_id', sa.UUID(), nullable=False),
    sa.Column('second_material_id', sa.UUID(), nullable=False),
    sa.Column('first_owner_org_id', sa.UUID(), nullable=False),
    sa.Column('second_owner_org_id', sa.UUID(), nullable=False),
    sa.Column('class_code', sa.String(length=8), nullable=False),
    sa.Column('score', sa.Numeric(precision=4, scale=1), nullable=False),
    sa.Column('parts', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reviewed_by_org_id', sa.UUID(), nullable=True),
    sa.Column('reviewed_by_user_id', sa.UUID(), nullable=True),
    sa.Column('reviewed_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('updated_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('first_material_id < second_material_id', name=op.f('ck_material_duplicate_candidates_ordered_pair')),
    sa.ForeignKeyConstraint(['first_material_id'], ['materials.id'], name=op.f('fk_material_duplicate_candidates_first_material_id_materials')),
    sa.ForeignKeyConstraint(['second_material_id'], ['materials.id'], name=op.f('fk_material_duplicate_candidates_second_material_id_materials')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_material_duplicate_candidates')),
    sa.UniqueConstraint('first_material_id', 'second_material_id', name=op.f('uq_material_duplicate_candidates_pair'))
    )
    op.create_index(op.f('ix_material_duplicate_candidates_first_material_id'), 'material_duplicate_candidates', ['first_material_id'], unique=False)
    op.create_index(op.f('ix_material_duplicate_candidates_first_owner_org_id'), 'material_duplicate_candidates', ['first_owner_org_id'], unique=False)
    op.create_index(op.f('ix_material_duplicate_candidates_second_material_id'), 'material_duplicate_candidates', ['second_material_id'], unique=False)
    op.create_index(op.f('ix_material_duplicate_candidates_second_owner_org_id'), 'material_duplicate_candidates', ['second_owner_org_id'], unique=False)
    op.create_index('ix_material_duplicate_candidates_status_score', 'material_duplicate_candidates', ['status', 'score'], unique=False)
    enable_tenant_rls("catalog_imports")
    _duplicate_queue_policies()
    op.execute(MOVE_MATERIAL_REFERENCES)
    op.execute(ALLOCATE_SEQUENCE_BLOCK)


# Bulk imports need thousands of codes of one class: one UPDATE for the block, not one per code (thousands
# of updates of one row in one transaction leave a chain of row versions that every next update walks).
ALLOCATE_SEQUENCE_BLOCK = """
CREATE FUNCTION tl_next_material_sequences(p_class_code text, p_count integer) RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS
$$ UPDATE material_classes SET next_sequence = next_sequence + p_count
   WHERE code = p_class_code AND is_leaf AND p_count > 0 RETURNING next_sequence - p_count $$;
REVOKE ALL ON FUNCTION tl_next_material_sequences(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tl_next_material_sequences(text, integer) TO tradeloom_app;
"""


def _duplicate_queue_policies() -> None:
    """Every member reads the queue; the owner of either material (or a platform admin) decides.

    Candidates are found by a platform job that runs as the table owner, so the app role never inserts.
    """
    owner = f"(first_owner_org_id = {CURRENT_ORG} OR second_owner_org_id = {CURRENT_ORG} OR {IS_PLATFORM_ADMIN})"
    grant_app("material_duplicate_candidates", "SELECT, UPDATE")
    op.execute("ALTER TABLE material_duplicate_candidates ENABLE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY shared_read ON material_duplicate_candidates FOR SELECT TO tradeloom_app USING (true)")
    op.execute(f"CREATE POLICY owner_decides ON material_duplicate_candidates FOR UPDATE TO tradeloom_app "
               f"USING {owner} WITH CHECK {owner}")


# Offers and price-list lines of other organizations are not writable (nor all visible) to the merging org,
# so a merge moves them through this function. It only acts for a material that the caller has already
# retired into the survivor in this transaction (owner of both, or platform admin), and it reports counts
# only: other tenants' private price lists stay private.
MOVE_MATERIAL_REFERENCES = """
CREATE FUNCTION tl_move_material_references(p_retired uuid, p_survivor uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  v_same_supplier jsonb;
  v_offers integer;
  v_lines integer;
  v_lines_kept integer;
  v_candidates integer;
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM materials r JOIN materials s ON s.id = p_survivor
     WHERE r.id = p_retired AND r.status = 'retired' AND r.merged_into_id = p_survivor
       AND (tl_is_platform_admin() OR (r.owner_org_id = tl_current_org() AND s.owner_org_id = tl_current_org()))
  ) THEN
    RAISE EXCEPTION 'material % is not retired into % by the calling organization', p_retired, p_survivor
      USING ERRCODE = '42501';
  END IF;

  SELECT coalesce(jsonb_agg(jsonb_build_object(
           'supplier_org_id', a.org_id, 'moved_part_number', a.supplier_part_number,
           'existing_part_number', b.supplier_part_number) ORDER BY a.supplier_part_number, b.supplier_part_number), '[]')
    INTO v_same_supplier
    FROM supplier_offers a JOIN supplier_offers b ON b.org_id = a.org_id AND b.material_id = p_survivor
   WHERE a.material_id = p_retired;
  UPDATE supplier_offers SET material_id = p_survivor, version = version + 1 WHERE material_id = p_retired;
  GET DIAGNOSTICS v_offers = ROW_COUNT;

  UPDATE price_list_lines l SET material_id = p_survivor
   WHERE l.material_id = p_retired
     AND NOT EXISTS (SELECT 1 FROM price_list_lines k WHERE k.price_list_id = l.price_list_id
                        AND k.material_id = p_survivor AND k.min_quantity = l.min_quantity);
  GET DIAGNOSTICS v_lines = ROW_COUNT;
  SELECT count(*) INTO v_lines_kept FROM price_list_lines WHERE material_id = p_retired;

  UPDATE material_duplicate_candidates
     SET status = 'merged', reviewed_at = now(), updated_at = now(),
         reviewed_by_org_id = tl_current_org(), reviewed_by_user_id = tl_current_user()
   WHERE first_material_id = least(p_retired, p_survivor) AND second_material_id = greatest(p_retired, p_survivor)
     AND status = 'open';
  WITH moving AS (
    SELECT c.id, CASE WHEN c.first_material_id = p_retired THEN c.second_material_id
                      ELSE c.first_material_id END AS other
      FROM material_duplicate_candidates c
     WHERE p_retired IN (c.first_material_id, c.second_material_id) AND c.status = 'open'
  )
  UPDATE material_duplicate_candidates c
     SET first_material_id = least(p_survivor, m.other), second_material_id = greatest(p_survivor, m.other),
         first_owner_org_id = (SELECT owner_org_id FROM materials WHERE id = least(p_survivor, m.other)),
         second_owner_org_id = (SELECT owner_org_id FROM materials WHERE id = greatest(p_survivor, m.other)),
         updated_at = now()
    FROM moving m
   WHERE c.id = m.id AND m.other <> p_survivor
     AND NOT EXISTS (SELECT 1 FROM material_duplicate_candidates d
                      WHERE d.first_material_id = least(p_survivor, m.other)
                        AND d.second_material_id = greatest(p_survivor, m.other));
  GET DIAGNOSTICS v_candidates = ROW_COUNT;
  -- what could not move (the survivor already has that pair) is settled by this merge
  UPDATE material_duplicate_candidates
     SET status = 'merged', reviewed_at = now(), updated_at = now(),
         reviewed_by_org_id = tl_current_org(), reviewed_by_user_id = tl_current_user()
   WHERE p_retired IN (first_material_id, second_material_id) AND status = 'open';

  RETURN jsonb_build_object(
    'offers_moved', v_offers, 'same_supplier_offers', v_same_supplier,
    'price_list_lines_moved', v_lines, 'price_list_lines_kept', v_lines_kept,
    'candidates_moved', v_candidates);
END $$;
REVOKE ALL ON FUNCTION tl_move_material_references(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tl_move_material_references(uuid, uuid) TO tradeloom_app;
"""


def downgrade() -> None:
    op.execute("DROP FUNCTION tl_next_material_sequences(text, integer)")
    op.execute("DROP FUNCTION tl_move_material_references(uuid, uuid)")
    op.drop_index('ix_material_duplicate_candidates_status_score', table_name='material_duplicate_candidates')
    op.drop_index(op.f('ix_material_duplicate_candidates_second_owner_org_id'), table_name='material_duplicate_candidates')
    op.drop_index(op.f('ix_material_duplicate_candidates_second_material_id'), table_name='material_duplicate_candidates')
    op.drop_index(op.f('ix_material_duplicate_candidates_first_owner_org_id'), table_name='material_duplicate_candidates')
    op.drop_index(op.f('ix_material_duplicate_candidates_first_material_id'), table_name='material_duplicate_candidates')
    op.drop_table('material_duplicate_candidates')
    op.drop_index(op.f('ix_catalog_imports_org_id'), table_name='catalog_imports')
    op.drop_table('catalog_imports')
