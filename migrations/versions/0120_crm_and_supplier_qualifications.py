"""CRM customers and contacts (tenant rows of the supplier whose CRM they come from), and supplier
qualification documents (a buyer's rows, visible to the supplier they are about).

Revision ID: 0120
Revises: 0099
Create Date: 2026-11-25 18:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tradeloom.rls import CURRENT_ORG, enable_tenant_rls, grant_app

revision: str = '0120'
down_revision: str | None = '0099'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTIES = f"(org_id = {CURRENT_ORG} OR supplier_org_id = {CURRENT_ORG})"


def upgrade() -> None:
    op.create_table('crm_customers',
    sa.Column('source_system', sa.String(length=40), nullable=False),
    sa.Column('external_id', sa.String(length=120), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('tax_id', sa.String(length=40), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=60), nullable=True),
    sa.Column('city', sa.String(length=120), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('buyer_org_id', sa.UUID(), nullable=True),
    sa.Column('matched_by', sa.String(length=8), nullable=True),
    sa.Column('synced_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['buyer_org_id'], ['organizations.id'], name=op.f('fk_crm_customers_buyer_org_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_customers'))
    )
    op.create_index(op.f('ix_crm_customers_org_id'), 'crm_customers', ['org_id'], unique=False)
    op.create_index('uq_crm_customers_key', 'crm_customers', ['org_id', 'source_system', 'external_id'], unique=True)
    op.create_table('crm_contacts',
    sa.Column('source_system', sa.String(length=40), nullable=False),
    sa.Column('external_id', sa.String(length=120), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=60), nullable=True),
    sa.Column('role', sa.String(length=120), nullable=True),
    sa.Column('synced_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['crm_customers.id'], name=op.f('fk_crm_contacts_customer_id_crm_customers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_contacts'))
    )
    op.create_index('ix_crm_contacts_customer', 'crm_contacts', ['customer_id'], unique=False)
    op.create_index(op.f('ix_crm_contacts_org_id'), 'crm_contacts', ['org_id'], unique=False)
    op.create_index('uq_crm_contacts_key', 'crm_contacts', ['org_id', 'source_system', 'external_id'], unique=True)
    op.create_table('supplier_qualifications',
    sa.Column('supplier_org_id', sa.UUID(), nullable=False),
    sa.Column('doc_type', sa.String(length=32), nullable=False),
    sa.Column('number', sa.String(length=80), nullable=False),
    sa.Column('issuer', sa.String(length=200), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('is_required', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('submitted_by_org_id', sa.UUID(), nullable=False),
    sa.Column('review_note', sa.String(length=500), nullable=True),
    sa.Column('file_sha256', sa.String(length=64), nullable=True),
    sa.Column('file_name', sa.String(length=255), nullable=True),
    sa.Column('file_content_type', sa.String(length=100), nullable=True),
    sa.Column('file_size_bytes', sa.Integer(), nullable=True),
    sa.Column('source_system', sa.String(length=40), nullable=True),
    sa.Column('external_id', sa.String(length=120), nullable=True),
    sa.Column('reminded_30_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('reminded_7_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('expired_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('updated_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.ForeignKeyConstraint(['submitted_by_org_id'], ['organizations.id'], name=op.f('fk_supplier_qualifications_submitted_by_org_id_organizations')),
    sa.ForeignKeyConstraint(['supplier_org_id'], ['organizations.id'], name=op.f('fk_supplier_qualifications_supplier_org_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier_qualifications'))
    )
    op.create_index('ix_supplier_qualifications_due', 'supplier_qualifications', ['valid_until', 'status'], unique=False)
    op.create_index(op.f('ix_supplier_qualifications_org_id'), 'supplier_qualifications', ['org_id'], unique=False)
    op.create_index('ix_supplier_qualifications_supplier', 'supplier_qualifications', ['supplier_org_id', 'valid_until'], unique=False)
    op.create_index('uq_supplier_qualifications_source', 'supplier_qualifications', ['org_id', 'source_system', 'external_id'], unique=True)
    enable_tenant_rls("crm_customers")
    enable_tenant_rls("crm_contacts")
    # the buyer keeps the row; the supplier it is about reads it, submits its own (pending) and attaches files
    grant_app("supplier_qualifications", "SELECT, INSERT, UPDATE")
    op.execute("ALTER TABLE supplier_qualifications ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY parties ON supplier_qualifications TO tradeloom_app USING {PARTIES} WITH CHECK {PARTIES}")


def downgrade() -> None:
    op.drop_table('supplier_qualifications')
    op.drop_table('crm_contacts')
    op.drop_table('crm_customers')
