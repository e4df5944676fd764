"""Catalogue: class tree, materials with history and attachments, supplier offers, price tiers, stock, price lists.

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-25 12:39:55.379025+00:00
"""

from collections.abc import Sequence

import json
from importlib import resources

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tradeloom.rls import CURRENT_ORG, IS_PLATFORM_ADMIN, enable_tenant_rls, grant_app

revision: str = '0006'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('material_classes',
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('parent_code', sa.String(length=8), nullable=True),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('unspsc', sa.String(length=8), nullable=True),
    sa.Column('eclass', sa.String(length=16), nullable=True),
    sa.Column('gbt7635', sa.String(length=32), nullable=True),
    sa.Column('attribute_template', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('is_leaf', sa.Boolean(), nullable=False),
    sa.Column('next_sequence', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['parent_code'], ['material_classes.code'], name=op.f('fk_material_classes_parent_code_material_classes')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_material_classes'))
    )
    op.create_index(op.f('ix_material_classes_parent_code'), 'material_classes', ['parent_code'], unique=False)
    op.create_table('materials',
    sa.Column('code', sa.String(length=24), nullable=False),
    sa.Column('class_code', sa.String(length=8), nullable=False),
    sa.Column('owner_org_id', sa.UUID(), nullable=False),
    sa.Column('name_zh', sa.String(length=300), nullable=False),
    sa.Column('name_en', sa.String(length=300), nullable=False),
    sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('base_unit', sa.String(length=3), nullable=False),
    sa.Column('pack_sizes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('gtin', sa.String(length=14), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('merged_into_id', sa.UUID(), nullable=True),
    sa.Column('search_vector', postgresql.TSVECTOR(), nullable=True),
    sa.Column('quality_score', sa.SmallInteger(), nullable=True),
    sa.Column('updated_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.ForeignKeyConstraint(['class_code'], ['material_classes.code'], name=op.f('fk_materials_class_code_material_classes')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['materials.id'], name=op.f('fk_materials_merged_into_id_materials')),
    sa.ForeignKeyConstraint(['owner_org_id'], ['organizations.id'], name=op.f('fk_materials_owner_org_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_materials')),
    sa.UniqueConstraint('code', name=op.f('uq_materials_code')),
    sa.UniqueConstraint('gtin', name=op.f('uq_materials_gtin'))
    )
    op.create_index('ix_materials_class_status', 'materials', ['class_code', 'status'], unique=False)
    op.create_index(op.f('ix_materials_owner_org_id'), 'materials', ['owner_org_id'], unique=False)
    op.create_index('ix_materials_search_vector', 'materials', ['search_vector'], unique=False, postgresql_using='gin')
    op.create_table('price_lists',
    sa.Column('buyer_org_id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('reference', sa.String(length=100), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.ForeignKeyConstraint(['buyer_org_id'], ['organizations.id'], name=op.f('fk_price_lists_buyer_org_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_lists'))
    )
    op.create_index(op.f('ix_price_lists_buyer_org_id'), 'price_lists', ['buyer_org_id'], unique=False)
    op.create_index(op.f('ix_price_lists_org_id'), 'price_lists', ['org_id'], unique=False)
    op.create_table('material_attachments',
    sa.Column('material_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=300), nullable=False),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_material_attachments_material_id_materials')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_material_attachments'))
    )
    op.create_index(op.f('ix_material_attachments_material_id'), 'material_attachments', ['material_id'], unique=False)
    op.create_index(op.f('ix_material_attachments_org_id'), 'material_attachments', ['org_id'], unique=False)
    op.create_table('material_versions',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('material_id', sa.UUID(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('snapshot', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('changed_by_org_id', sa.UUID(), nullable=False),
    sa.Column('changed_by_user_id', sa.UUID(), nullable=True),
    sa.Column('change', sa.String(length=32), nullable=False),
    sa.Column('changed_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_material_versions_material_id_materials')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_material_versions')),
    sa.UniqueConstraint('material_id', 'version', name=op.f('uq_material_versions_material_id_version'))
    )
    op.create_index(op.f('ix_material_versions_material_id'), 'material_versions', ['material_id'], unique=False)
    op.create_table('price_list_lines',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('price_list_id', sa.UUID(), nullable=False),
    sa.Column('buyer_org_id', sa.UUID(), nullable=False),
    sa.Column('material_id', sa.UUID(), nullable=False),
    sa.Column('min_quantity', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_price_list_lines_material_id_materials')),
    sa.ForeignKeyConstraint(['price_list_id'], ['price_lists.id'], name=op.f('fk_price_list_lines_price_list_id_price_lists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_list_lines')),
    sa.UniqueConstraint('price_list_id', 'material_id', 'min_quantity', name=op.f('uq_price_list_lines_price_list_id_material_id_min_quantity'))
    )
    op.create_index(op.f('ix_price_list_lines_buyer_org_id'), 'price_list_lines', ['buyer_org_id'], unique=False)
    op.create_index(op.f('ix_price_list_lines_material_id'), 'price_list_lines', ['material_id'], unique=False)
    op.create_index(op.f('ix_price_list_lines_org_id'), 'price_list_lines', ['org_id'], unique=False)
    op.create_index(op.f('ix_price_list_lines_price_list_id'), 'price_list_lines', ['price_list_id'], unique=False)
    op.create_table('supplier_offers',
    sa.Column('material_id', sa.UUID(), nullable=False),
    sa.Column('supplier_part_number', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('order_unit', sa.String(length=3), nullable=False),
    sa.Column('moq', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('pack_size', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('lead_time_days', sa.Integer(), nullable=False),
    sa.Column('incoterm', sa.String(length=3), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_supplier_offers_material_id_materials')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier_offers')),
    sa.UniqueConstraint('org_id', 'supplier_part_number', name=op.f('uq_supplier_offers_org_id_supplier_part_number'))
    )
    op.create_index(op.f('ix_supplier_offers_material_id'), 'supplier_offers', ['material_id'], unique=False)
    op.create_index(op.f('ix_supplier_offers_org_id'), 'supplier_offers', ['org_id'], unique=False)
    op.create_table('offer_price_tiers',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('offer_id', sa.UUID(), nullable=False),
    sa.Column('min_quantity', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['supplier_offers.id'], name=op.f('fk_offer_price_tiers_offer_id_supplier_offers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offer_price_tiers')),
    sa.UniqueConstraint('offer_id', 'min_quantity', name=op.f('uq_offer_price_tiers_offer_id_min_quantity'))
    )
    op.create_index(op.f('ix_offer_price_tiers_offer_id'), 'offer_price_tiers', ['offer_id'], unique=False)
    op.create_index(op.f('ix_offer_price_tiers_org_id'), 'offer_price_tiers', ['org_id'], unique=False)
    op.create_table('offer_stock',
    sa.Column('offer_id', sa.UUID(), nullable=False),
    sa.Column('site_id', sa.UUID(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('updated_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['supplier_offers.id'], name=op.f('fk_offer_stock_offer_id_supplier_offers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_offer_stock_site_id_sites')),
    sa.PrimaryKeyConstraint('offer_id', 'site_id', name=op.f('pk_offer_stock'))
    )
    op.create_index(op.f('ix_offer_stock_org_id'), 'offer_stock', ['org_id'], unique=False)
    _row_level_security()
    _code_allocation()
    _starting_class_tree()


def _public_read_owner_write(table: str, owner_column: str) -> None:
    """Everyone reads (shared master data / public listings); only the owning org (or a platform admin) writes."""
    grant_app(table, "SELECT, INSERT, UPDATE")
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY shared_read ON {table} FOR SELECT TO tradeloom_app USING (true)")
    op.execute(f"CREATE POLICY owner_insert ON {table} FOR INSERT TO tradeloom_app "
               f"WITH CHECK ({owner_column} = {CURRENT_ORG})")
    op.execute(f"CREATE POLICY owner_update ON {table} FOR UPDATE TO tradeloom_app "
               f"USING ({owner_column} = {CURRENT_ORG} OR {IS_PLATFORM_ADMIN}) "
               f"WITH CHECK ({owner_column} = {CURRENT_ORG} OR {IS_PLATFORM_ADMIN})")


def _row_level_security() -> None:
    grant_app("material_classes", "SELECT")
    _public_read_owner_write("materials", "owner_org_id")
    _public_read_owner_write("supplier_offers", "org_id")
    _public_read_owner_write("offer_stock", "org_id")
    _public_read_owner_write("offer_price_tiers", "org_id")
    grant_app("offer_price_tiers, offer_stock", "DELETE")
    op.execute(f"CREATE POLICY owner_delete ON offer_price_tiers FOR DELETE TO tradeloom_app USING (org_id = {CURRENT_ORG})")
    op.execute(f"CREATE POLICY owner_delete ON offer_stock FOR DELETE TO tradeloom_app USING (org_id = {CURRENT_ORG})")
    # History: everyone reads, each org appends its own changes, nobody rewrites.
    grant_app("material_versions", "SELECT, INSERT")
    op.execute("ALTER TABLE material_versions ENABLE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY shared_read ON material_versions FOR SELECT TO tradeloom_app USING (true)")
    op.execute(f"CREATE POLICY own_changes ON material_versions FOR INSERT TO tradeloom_app WITH CHECK (changed_by_org_id = {CURRENT_ORG})")
    # Attachments: public ones to all, private ones to the uploader.
    grant_app("material_attachments", "SELECT, INSERT, UPDATE")
    op.execute("ALTER TABLE material_attachments ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY visible ON material_attachments FOR SELECT TO tradeloom_app USING (is_public OR org_id = {CURRENT_ORG})")
    op.execute(f"CREATE POLICY uploader_insert ON material_attachments FOR INSERT TO tradeloom_app WITH CHECK (org_id = {CURRENT_ORG})")
    op.execute(f"CREATE POLICY uploader_update ON material_attachments FOR UPDATE TO tradeloom_app USING (org_id = {CURRENT_ORG})")
    # Price lists: between one supplier (org_id) and one buyer.
    for table in ("price_lists", "price_list_lines"):
        enable_tenant_rls(table, "SELECT, INSERT, UPDATE, DELETE")
        op.execute(f"CREATE POLICY buyer_read ON {table} FOR SELECT TO tradeloom_app USING (buyer_org_id = {CURRENT_ORG})")


def _code_allocation() -> None:
    """Material code sequences per class: allocated atomically, never reused (the app role cannot write classes)."""
    op.execute("""
        CREATE FUNCTION tl_next_material_sequence(p_class_code text) RETURNS integer
        LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS
        $$ UPDATE material_classes SET next_sequence = next_sequence + 1
           WHERE code = p_class_code AND is_leaf RETURNING next_sequence - 1 $$;
        REVOKE ALL ON FUNCTION tl_next_material_sequence(text) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION tl_next_material_sequence(text) TO tradeloom_app;
    """)


def _starting_class_tree() -> None:
    """The shipped tree (catalog/data/classes.json as it is at this revision); later edits come as new revisions."""
    document = json.loads(resources.files("catalog.data").joinpath("classes.json").read_text(encoding="utf-8"))
    classes = document["classes"]
    parents = {item.get("parent") for item in classes}
    table = sa.table(
        "material_classes", sa.column("code"), sa.column("parent_code"), sa.column("name_zh"), sa.column("name_en"),
        sa.column("unspsc"), sa.column("eclass"), sa.column("gbt7635"),
        sa.column("attribute_template", postgresql.JSONB), sa.column("is_leaf"), sa.column("next_sequence"),
    )
    rows = [
        {"code": item["code"], "parent_code": item.get("parent"), "name_zh": item["name_zh"],
         "name_en": item["name_en"], "unspsc": item.get("unspsc"), "eclass": item.get("eclass"),
         "gbt7635": item.get("gbt7635"), "attribute_template": item.get("attributes"),
         "is_leaf": item["code"] not in parents, "next_sequence": 1}
        for item in sorted(classes, key=lambda item: len(item["code"]))
    ]
    op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_index(op.f('ix_offer_stock_org_id'), table_name='offer_stock')
    op.drop_table('offer_stock')
    op.drop_index(op.f('ix_offer_price_tiers_org_id'), table_name='offer_price_tiers')
    op.drop_index(op.f('ix_offer_price_tiers_offer_id'), table_name='offer_price_tiers')
    op.drop_table('offer_price_tiers')
    op.drop_index(op.f('ix_supplier_offers_org_id'), table_name='supplier_offers')
    op.drop_index(op.f('ix_supplier_offers_material_id'), table_name='supplier_offers')
    op.drop_table('supplier_offers')
    op.drop_index(op.f('ix_price_list_lines_price_list_id'), table_name='price_list_lines')
    op.drop_index(op.f('ix_price_list_lines_org_id'), table_name='price_list_lines')
    op.drop_index(op.f('ix_price_list_lines_material_id'), table_name='price_list_lines')
    op.drop_index(op.f('ix_price_list_lines_buyer_org_id'), table_name='price_list_lines')
    op.drop_table('price_list_lines')
    op.drop_index(op.f('ix_material_versions_material_id'), table_name='material_versions')
    op.drop_table('material_versions')
    op.drop_index(op.f('ix_material_attachments_org_id'), table_name='material_attachments')
    op.drop_index(op.f('ix_material_attachments_material_id'), table_name='material_attachments')
    op.drop_table('material_attachments')
    op.drop_index(op.f('ix_price_lists_org_id'), table_name='price_lists')
    op.drop_index(op.f('ix_price_lists_buyer_org_id'), table_name='price_lists')
    op.drop_table('price_lists')
    op.drop_index('ix_materials_search_vector', table_name='materials', postgresql_using='gin')
    op.drop_index(op.f('ix_materials_owner_org_id'), table_name='materials')
    op.drop_index('ix_materials_class_status', table_name='materials')
    op.drop_table('materials')
    op.drop_index(op.f('ix_material_classes_parent_code'), table_name='material_classes')
    op.drop_table('material_classes')
    op.execute("DROP FUNCTION tl_next_material_sequence(text)")
