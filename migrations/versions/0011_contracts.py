"""Contracts: versioned terms, items with caps, two-party signatures, signing keys, call-offs

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 13:05:35.453727+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tradeloom.rls import CURRENT_ORG, enable_tenant_rls, grant_app

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('signing_keys',
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('encrypted_private_key', sa.LargeBinary(), nullable=True),
    sa.Column('custody', sa.String(length=16), nullable=False),
    sa.Column('revoked_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signing_keys'))
    )
    op.create_index(op.f('ix_signing_keys_org_id'), 'signing_keys', ['org_id'], unique=False)
    op.create_table('contracts',
    sa.Column('supplier_org_id', sa.UUID(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('terms_version', sa.Integer(), nullable=False),
    sa.Column('signed_terms_version', sa.Integer(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('value_cap', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('value_drawn', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('price_list_id', sa.UUID(), nullable=True),
    sa.Column('rfq_id', sa.UUID(), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.ForeignKeyConstraint(['supplier_org_id'], ['organizations.id'], name=op.f('fk_contracts_supplier_org_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contracts')),
    sa.UniqueConstraint('number', name=op.f('uq_contracts_number'))
    )
    op.create_index(op.f('ix_contracts_org_id'), 'contracts', ['org_id'], unique=False)
    op.create_index(op.f('ix_contracts_supplier_org_id'), 'contracts', ['supplier_org_id'], unique=False)
    op.create_table('call_offs',
    sa.Column('contract_id', sa.UUID(), nullable=False),
    sa.Column('supplier_org_id', sa.UUID(), nullable=False),
    sa.Column('delivery_site_id', sa.UUID(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('lines', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('order_reference', sa.String(length=100), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_call_offs_contract_id_contracts')),
    sa.ForeignKeyConstraint(['delivery_site_id'], ['sites.id'], name=op.f('fk_call_offs_delivery_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_offs'))
    )
    op.create_index(op.f('ix_call_offs_contract_id'), 'call_offs', ['contract_id'], unique=False)
    op.create_index(op.f('ix_call_offs_org_id'), 'call_offs', ['org_id'], unique=False)
    op.create_table('contract_items',
    sa.Column('contract_id', sa.UUID(), nullable=False),
    sa.Column('supplier_org_id', sa.UUID(), nullable=False),
    sa.Column('material_id', sa.UUID(), nullable=False),
    sa.Column('unit', sa.String(length=3), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('quantity_cap', sa.Numeric(precision=18, scale=6), nullable=True),
    sa.Column('value_cap', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('quantity_drawn', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('value_drawn', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('in_force', sa.Boolean(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_items_contract_id_contracts')),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_contract_items_material_id_materials')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_items')),
    sa.UniqueConstraint('contract_id', 'material_id', name=op.f('uq_contract_items_contract_id_material_id'))
    )
    op.create_index(op.f('ix_contract_items_contract_id'), 'contract_items', ['contract_id'], unique=False)
    op.create_index(op.f('ix_contract_items_org_id'), 'contract_items', ['org_id'], unique=False)
    op.create_table('contract_signatures',
    sa.Column('contract_id', sa.UUID(), nullable=False),
    sa.Column('terms_version', sa.Integer(), nullable=False),
    sa.Column('buyer_org_id', sa.UUID(), nullable=False),
    sa.Column('supplier_org_id', sa.UUID(), nullable=False),
    sa.Column('signer_user_id', sa.UUID(), nullable=True),
    sa.Column('document_hash', sa.String(length=64), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.Column('signed_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('evidence_entry_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_signatures_contract_id_contracts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_signatures')),
    sa.UniqueConstraint('contract_id', 'terms_version', 'org_id', name=op.f('uq_contract_signatures_contract_id_terms_version_org_id'))
    )
    op.create_index(op.f('ix_contract_signatures_contract_id'), 'contract_signatures', ['contract_id'], unique=False)
    op.create_index(op.f('ix_contract_signatures_org_id'), 'contract_signatures', ['org_id'], unique=False)
    op.create_table('contract_terms',
    sa.Column('contract_id', sa.UUID(), nullable=False),
    sa.Column('terms_version', sa.Integer(), nullable=False),
    sa.Column('supplier_org_id', sa.UUID(), nullable=False),
    sa.Column('document', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('document_hash', sa.String(length=64), nullable=False),
    sa.Column('change', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_terms_contract_id_contracts')),
    sa.PrimaryKeyConstraint('contract_id', 'terms_version', name=op.f('pk_contract_terms'))
    )
    op.create_index(op.f('ix_contract_terms_org_id'), 'contract_terms', ['org_id'], unique=False)
    _row_level_security()


_PARTIES = f"(org_id = {CURRENT_ORG} OR supplier_org_id = {CURRENT_ORG})"


def _party_rows(table: str, privileges: str, parties: str = _PARTIES) -> None:
    """Rows both parties of a contract read (and, as granted, write)."""
    grant_app(table, privileges)
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY parties ON {table} TO tradeloom_app USING ({parties}) WITH CHECK ({parties})")


def _row_level_security() -> None:
    _party_rows("contracts", "SELECT, INSERT, UPDATE")
    _party_rows("contract_terms", "SELECT, INSERT")  # history: appended, never rewritten
    _party_rows("contract_items", "SELECT, INSERT, UPDATE")
    # A signature is the signing party's own row (org_id), visible to both parties, never changed.
    grant_app("contract_signatures", "SELECT, INSERT")
    op.execute("ALTER TABLE contract_signatures ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY parties_read ON contract_signatures FOR SELECT TO tradeloom_app "
               f"USING (buyer_org_id = {CURRENT_ORG} OR supplier_org_id = {CURRENT_ORG})")
    op.execute(f"CREATE POLICY own_signature ON contract_signatures FOR INSERT TO tradeloom_app "
               f"WITH CHECK (org_id = {CURRENT_ORG} AND (buyer_org_id = {CURRENT_ORG} OR supplier_org_id = {CURRENT_ORG}))")
    enable_tenant_rls("signing_keys")
    enable_tenant_rls("call_offs", "SELECT, INSERT")
    op.execute(f"CREATE POLICY supplier_read ON call_offs FOR SELECT TO tradeloom_app USING (supplier_org_id = {CURRENT_ORG})")

def downgrade() -> None:
    op.drop_index(op.f('ix_contract_terms_org_id'), table_name='contract_terms')
    op.drop_table('contract_terms')
    op.drop_index(op.f('ix_contract_signatures_org_id'), table_name='contract_signatures')
    op.drop_index(op.f('ix_contract_signatures_contract_id'), table_name='contract_signatures')
    op.drop_table('contract_signatures')
    op.drop_index(op.f('ix_contract_items_org_id'), table_name='contract_items')
    op.drop_index(op.f('ix_contract_items_contract_id'), table_name='contract_items')
    op.drop_table('contract_items')
    op.drop_index(op.f('ix_call_offs_org_id'), table_name='call_offs')
    op.drop_index(op.f('ix_call_offs_contract_id'), table_name='call_offs')
    op.drop_table('call_offs')
    op.drop_index(op.f('ix_contracts_supplier_org_id'), table_name='contracts')
    op.drop_index(op.f('ix_contracts_org_id'), table_name='contracts')
    op.drop_table('contracts')
    op.drop_index(op.f('ix_signing_keys_org_id'), table_name='signing_keys')
    op.drop_table('signing_keys')
