"""RFQs, invitations, clarification Q&A, sealed quotations (revisions kept) and awards

Revision ID: 0010
Revises: 0006
Create Date: 2026-11-25 13:05:35.453727+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tradeloom.rls import CURRENT_ORG, enable_tenant_rls

revision: str = '0010'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rfqs',
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('delivery_site_id', sa.UUID(), nullable=False),
    sa.Column('deadline', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.Column('visibility', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.ForeignKeyConstraint(['delivery_site_id'], ['sites.id'], name=op.f('fk_rfqs_delivery_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rfqs'))
    )
    op.create_index(op.f('ix_rfqs_org_id'), 'rfqs', ['org_id'], unique=False)
    op.create_table('quotations',
    sa.Column('rfq_id', sa.UUID(), nullable=False),
    sa.Column('buyer_org_id', sa.UUID(), nullable=False),
    sa.Column('sealed_until', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('freight', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('submitted_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['rfq_id'], ['rfqs.id'], name=op.f('fk_quotations_rfq_id_rfqs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quotations')),
    sa.UniqueConstraint('rfq_id', 'org_id', 'revision', name=op.f('uq_quotations_rfq_id_org_id_revision'))
    )
    op.create_index(op.f('ix_quotations_buyer_org_id'), 'quotations', ['buyer_org_id'], unique=False)
    op.create_index(op.f('ix_quotations_org_id'), 'quotations', ['org_id'], unique=False)
    op.create_index(op.f('ix_quotations_rfq_id'), 'quotations', ['rfq_id'], unique=False)
    op.create_table('rfq_invitations',
    sa.Column('rfq_id', sa.UUID(), nullable=False),
    sa.Column('supplier_org_id', sa.UUID(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('invited_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['rfq_id'], ['rfqs.id'], name=op.f('fk_rfq_invitations_rfq_id_rfqs')),
    sa.ForeignKeyConstraint(['supplier_org_id'], ['organizations.id'], name=op.f('fk_rfq_invitations_supplier_org_id_organizations')),
    sa.PrimaryKeyConstraint('rfq_id', 'supplier_org_id', name=op.f('pk_rfq_invitations'))
    )
    op.create_index(op.f('ix_rfq_invitations_org_id'), 'rfq_invitations', ['org_id'], unique=False)
    op.create_table('rfq_lines',
    sa.Column('rfq_id', sa.UUID(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.UUID(), nullable=True),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('class_code', sa.String(length=8), nullable=False),
    sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('unit', sa.String(length=3), nullable=False),
    sa.Column('required_date', sa.Date(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_rfq_lines_material_id_materials')),
    sa.ForeignKeyConstraint(['rfq_id'], ['rfqs.id'], name=op.f('fk_rfq_lines_rfq_id_rfqs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rfq_lines')),
    sa.UniqueConstraint('rfq_id', 'line_no', name=op.f('uq_rfq_lines_rfq_id_line_no'))
    )
    op.create_index(op.f('ix_rfq_lines_org_id'), 'rfq_lines', ['org_id'], unique=False)
    op.create_index(op.f('ix_rfq_lines_rfq_id'), 'rfq_lines', ['rfq_id'], unique=False)
    op.create_table('rfq_questions',
    sa.Column('rfq_id', sa.UUID(), nullable=False),
    sa.Column('asked_by_org_id', sa.UUID(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['rfq_id'], ['rfqs.id'], name=op.f('fk_rfq_questions_rfq_id_rfqs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rfq_questions'))
    )
    op.create_index(op.f('ix_rfq_questions_org_id'), 'rfq_questions', ['org_id'], unique=False)
    op.create_index(op.f('ix_rfq_questions_rfq_id'), 'rfq_questions', ['rfq_id'], unique=False)
    op.create_table('quotation_lines',
    sa.Column('quotation_id', sa.UUID(), nullable=False),
    sa.Column('rfq_line_id', sa.UUID(), nullable=False),
    sa.Column('buyer_org_id', sa.UUID(), nullable=False),
    sa.Column('sealed_until', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('unit', sa.String(length=3), nullable=False),
    sa.Column('price_tiers', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('lead_time_days', sa.Integer(), nullable=False),
    sa.Column('alternative', sa.String(length=300), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['quotation_id'], ['quotations.id'], name=op.f('fk_quotation_lines_quotation_id_quotations')),
    sa.ForeignKeyConstraint(['rfq_line_id'], ['rfq_lines.id'], name=op.f('fk_quotation_lines_rfq_line_id_rfq_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quotation_lines'))
    )
    op.create_index(op.f('ix_quotation_lines_org_id'), 'quotation_lines', ['org_id'], unique=False)
    op.create_index(op.f('ix_quotation_lines_quotation_id'), 'quotation_lines', ['quotation_id'], unique=False)
    op.create_table('rfq_awards',
    sa.Column('rfq_id', sa.UUID(), nullable=False),
    sa.Column('rfq_line_id', sa.UUID(), nullable=False),
    sa.Column('quotation_line_id', sa.UUID(), nullable=False),
    sa.Column('supplier_org_id', sa.UUID(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('unit', sa.String(length=3), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['quotation_line_id'], ['quotation_lines.id'], name=op.f('fk_rfq_awards_quotation_line_id_quotation_lines')),
    sa.ForeignKeyConstraint(['rfq_id'], ['rfqs.id'], name=op.f('fk_rfq_awards_rfq_id_rfqs')),
    sa.ForeignKeyConstraint(['rfq_line_id'], ['rfq_lines.id'], name=op.f('fk_rfq_awards_rfq_line_id_rfq_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rfq_awards'))
    )
    op.create_index(op.f('ix_rfq_awards_org_id'), 'rfq_awards', ['org_id'], unique=False)
    op.create_index(op.f('ix_rfq_awards_rfq_id'), 'rfq_awards', ['rfq_id'], unique=False)
    op.create_index(op.f('ix_rfq_awards_supplier_org_id'), 'rfq_awards', ['supplier_org_id'], unique=False)
    _row_level_security()


def _invited(rfq_id_column: str) -> str:
    return (f"EXISTS (SELECT 1 FROM rfq_invitations i WHERE i.rfq_id = {rfq_id_column} "
            f"AND i.supplier_org_id = {CURRENT_ORG})")


def _row_level_security() -> None:
    # An RFQ and its lines: the buyer's own rows; its invited suppliers read them.
    for table, rfq_id_column in (("rfqs", "rfqs.id"), ("rfq_lines", "rfq_lines.rfq_id")):
        enable_tenant_rls(table)
        op.execute(f"CREATE POLICY invitee_read ON {table} FOR SELECT TO tradeloom_app USING ({_invited(rfq_id_column)})")
    enable_tenant_rls("rfq_invitations", "SELECT, INSERT")
    op.execute(f"CREATE POLICY invitee_read ON rfq_invitations FOR SELECT TO tradeloom_app USING (supplier_org_id = {CURRENT_ORG})")
    # Q&A: the buyer answers; every invitee reads all and asks in its own name (the service hides the name).
    enable_tenant_rls("rfq_questions")
    op.execute(f"CREATE POLICY invitee_read ON rfq_questions FOR SELECT TO tradeloom_app USING ({_invited('rfq_questions.rfq_id')})")
    op.execute(f"CREATE POLICY invitee_ask ON rfq_questions FOR INSERT TO tradeloom_app "
               f"WITH CHECK (asked_by_org_id = {CURRENT_ORG} AND {_invited('rfq_questions.rfq_id')})")
    # Quotations are sealed: the supplier's own rows; the buyer reads them only once the deadline has passed,
    # and nobody inserts one after it.
    for table in ("quotations", "quotation_lines"):
        enable_tenant_rls(table)
        op.execute(f"CREATE POLICY buyer_read_after_deadline ON {table} FOR SELECT TO tradeloom_app "
                   f"USING (buyer_org_id = {CURRENT_ORG} AND sealed_until <= now())")
        op.execute(f"CREATE POLICY before_deadline ON {table} AS RESTRICTIVE FOR INSERT TO tradeloom_app "
                   "WITH CHECK (sealed_until > now())")
    enable_tenant_rls("rfq_awards", "SELECT, INSERT")
    op.execute(f"CREATE POLICY supplier_read ON rfq_awards FOR SELECT TO tradeloom_app USING (supplier_org_id = {CURRENT_ORG})")

def downgrade() -> None:
    op.execute("DROP POLICY invitee_read ON rfqs")  # it reads rfq_invitations
    op.drop_index(op.f('ix_rfq_awards_supplier_org_id'), table_name='rfq_awards')
    op.drop_index(op.f('ix_rfq_awards_rfq_id'), table_name='rfq_awards')
    op.drop_index(op.f('ix_rfq_awards_org_id'), table_name='rfq_awards')
    op.drop_table('rfq_awards')
    op.drop_index(op.f('ix_quotation_lines_quotation_id'), table_name='quotation_lines')
    op.drop_index(op.f('ix_quotation_lines_org_id'), table_name='quotation_lines')
    op.drop_table('quotation_lines')
    op.drop_index(op.f('ix_rfq_questions_rfq_id'), table_name='rfq_questions')
    op.drop_index(op.f('ix_rfq_questions_org_id'), table_name='rfq_questions')
    op.drop_table('rfq_questions')
    op.drop_index(op.f('ix_rfq_lines_rfq_id'), table_name='rfq_lines')
    op.drop_index(op.f('ix_rfq_lines_org_id'), table_name='rfq_lines')
    op.drop_table('rfq_lines')
    op.drop_index(op.f('ix_rfq_invitations_org_id'), table_name='rfq_invitations')
    op.drop_table('rfq_invitations')
    op.drop_index(op.f('ix_quotations_rfq_id'), table_name='quotations')
    op.drop_index(op.f('ix_quotations_org_id'), table_name='quotations')
    op.drop_index(op.f('ix_quotations_buyer_org_id'), table_name='quotations')
    op.drop_table('quotations')
    op.drop_index(op.f('ix_rfqs_org_id'), table_name='rfqs')
    op.drop_table('rfqs')
