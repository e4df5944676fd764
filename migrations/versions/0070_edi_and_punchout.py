"""EDI partners, interchanges and the orders they placed; PunchOut credentials, sessions and orders.

Credentials and sessions are found before the tenant is known (a cXML request carries only its
identity; a browser only its session token), through two SECURITY DEFINER look-ups that expose no more.

Revision ID: 0070
Revises: 0014
Create Date: 2026-11-25 15:09:30.147452+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tradeloom.rls import enable_tenant_rls

revision: str = '0070'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('edi_partners',
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('partner_id', sa.String(length=35), nullable=False),
    sa.Column('partner_qualifier', sa.String(length=4), nullable=False),
    sa.Column('our_id', sa.String(length=35), nullable=False),
    sa.Column('our_qualifier', sa.String(length=4), nullable=False),
    sa.Column('syntax_version', sa.String(length=8), nullable=False),
    sa.Column('messages', sa.ARRAY(sa.String(length=8)), nullable=False),
    sa.Column('delivery_site_id', sa.UUID(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('last_outbound_reference', sa.Integer(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.ForeignKeyConstraint(['delivery_site_id'], ['sites.id'], name=op.f('fk_edi_partners_delivery_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_edi_partners')),
    sa.UniqueConstraint('org_id', 'partner_id', 'partner_qualifier', name=op.f('uq_edi_partners_org_id_partner_id_partner_qualifier'))
    )
    op.create_index(op.f('ix_edi_partners_org_id'), 'edi_partners', ['org_id'], unique=False)
    op.create_table('punchout_credentials',
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('domain', sa.String(length=40), nullable=False),
    sa.Column('identity', sa.String(length=80), nullable=False),
    sa.Column('secret_hash', sa.String(length=200), nullable=False),
    sa.Column('supplier_org_id', sa.UUID(), nullable=False),
    sa.Column('delivery_site_id', sa.UUID(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('last_used_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.ForeignKeyConstraint(['delivery_site_id'], ['sites.id'], name=op.f('fk_punchout_credentials_delivery_site_id_sites')),
    sa.ForeignKeyConstraint(['supplier_org_id'], ['organizations.id'], name=op.f('fk_punchout_credentials_supplier_org_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_punchout_credentials')),
    sa.UniqueConstraint('domain', 'identity', name=op.f('uq_punchout_credentials_domain_identity'))
    )
    op.create_index(op.f('ix_punchout_credentials_org_id'), 'punchout_credentials', ['org_id'], unique=False)
    op.create_table('edi_interchanges',
    sa.Column('partner_id', sa.UUID(), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('control_reference', sa.String(length=14), nullable=False),
    sa.Column('message_types', sa.ARRAY(sa.String(length=8)), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('detail', sa.String(length=1000), nullable=True),
    sa.Column('source_order_id', sa.UUID(), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=True),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('downloaded_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['edi_partners.id'], name=op.f('fk_edi_interchanges_partner_id_edi_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_edi_interchanges')),
    sa.UniqueConstraint('partner_id', 'direction', 'control_reference', name=op.f('uq_edi_interchanges_partner_id_direction_control_reference'))
    )
    op.create_index('ix_edi_interchanges_org_created', 'edi_interchanges', ['org_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_edi_interchanges_org_id'), 'edi_interchanges', ['org_id'], unique=False)
    op.create_table('punchout_orders',
    sa.Column('credential_id', sa.UUID(), nullable=False),
    sa.Column('payload_id', sa.String(length=250), nullable=False),
    sa.Column('order_ref', sa.String(length=100), nullable=False),
    sa.Column('purchase_order_id', sa.UUID(), nullable=False),
    sa.Column('total', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('request_body', sa.Text(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['credential_id'], ['punchout_credentials.id'], name=op.f('fk_punchout_orders_credential_id_punchout_credentials')),
    sa.ForeignKeyConstraint(['purchase_order_id'], ['purchase_orders.id'], name=op.f('fk_punchout_orders_purchase_order_id_purchase_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_punchout_orders')),
    sa.UniqueConstraint('org_id', 'order_ref', name=op.f('uq_punchout_orders_org_id_order_ref')),
    sa.UniqueConstraint('org_id', 'payload_id', name=op.f('uq_punchout_orders_org_id_payload_id'))
    )
    op.create_index(op.f('ix_punchout_orders_org_id'), 'punchout_orders', ['org_id'], unique=False)
    op.create_table('punchout_sessions',
    sa.Column('credential_id', sa.UUID(), nullable=False),
    sa.Column('entry_token_hash', sa.String(length=64), nullable=False),
    sa.Column('browser_token_hash', sa.String(length=64), nullable=True),
    sa.Column('buyer_cookie', sa.String(length=200), nullable=False),
    sa.Column('browser_form_post_url', sa.String(length=2000), nullable=False),
    sa.Column('user_email', sa.String(length=254), nullable=True),
    sa.Column('cart', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('expires_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['credential_id'], ['punchout_credentials.id'], name=op.f('fk_punchout_sessions_credential_id_punchout_credentials')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_punchout_sessions')),
    sa.UniqueConstraint('browser_token_hash', name=op.f('uq_punchout_sessions_browser_token_hash')),
    sa.UniqueConstraint('entry_token_hash', name=op.f('uq_punchout_sessions_entry_token_hash'))
    )
    op.create_index(op.f('ix_punchout_sessions_org_id'), 'punchout_sessions', ['org_id'], unique=False)
    op.create_table('edi_orders',
    sa.Column('partner_id', sa.UUID(), nullable=False),
    sa.Column('interchange_id', sa.UUID(), nullable=False),
    sa.Column('message_reference', sa.String(length=14), nullable=False),
    sa.Column('document_number', sa.String(length=35), nullable=False),
    sa.Column('purchase_order_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['interchange_id'], ['edi_interchanges.id'], name=op.f('fk_edi_orders_interchange_id_edi_interchanges')),
    sa.ForeignKeyConstraint(['partner_id'], ['edi_partners.id'], name=op.f('fk_edi_orders_partner_id_edi_partners')),
    sa.ForeignKeyConstraint(['purchase_order_id'], ['purchase_orders.id'], name=op.f('fk_edi_orders_purchase_order_id_purchase_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_edi_orders')),
    sa.UniqueConstraint('partner_id', 'document_number', name=op.f('uq_edi_orders_partner_id_document_number')),
    sa.UniqueConstraint('purchase_order_id', name=op.f('uq_edi_orders_purchase_order_id'))
    )
    op.create_index(op.f('ix_edi_orders_org_id'), 'edi_orders', ['org_id'], unique=False)

    for table in ("edi_partners", "edi_interchanges", "edi_orders", "punchout_credentials", "punchout_sessions",
                  "punchout_orders"):
        enable_tenant_rls(table)
    op.execute("""
        CREATE FUNCTION tl_punchout_credential_lookup(p_domain text, p_identity text)
        RETURNS TABLE (id uuid, org_id uuid, secret_hash text)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS
        $$ SELECT c.id, c.org_id, c.secret_hash FROM punchout_credentials c
           JOIN organizations o ON o.id = c.org_id
           WHERE lower(c.domain) = lower(p_domain) AND c.identity = p_identity AND c.is_active AND o.is_active $$;
        CREATE FUNCTION tl_punchout_session_lookup(p_token_hash text)
        RETURNS TABLE (id uuid, org_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS
        $$ SELECT id, org_id FROM punchout_sessions
           WHERE entry_token_hash = p_token_hash OR browser_token_hash = p_token_hash $$;
        REVOKE ALL ON FUNCTION tl_punchout_credential_lookup(text, text), tl_punchout_session_lookup(text) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION tl_punchout_credential_lookup(text, text), tl_punchout_session_lookup(text)
          TO tradeloom_app;
    """)

def downgrade() -> None:
    op.execute("DROP FUNCTION tl_punchout_credential_lookup(text, text), tl_punchout_session_lookup(text)")
    op.drop_index(op.f('ix_edi_orders_org_id'), table_name='edi_orders')
    op.drop_table('edi_orders')
    op.drop_index(op.f('ix_punchout_sessions_org_id'), table_name='punchout_sessions')
    op.drop_table('punchout_sessions')
    op.drop_index(op.f('ix_punchout_orders_org_id'), table_name='punchout_orders')
    op.drop_table('punchout_orders')
    op.drop_index(op.f('ix_edi_interchanges_org_id'), table_name='edi_interchanges')
    op.drop_index('ix_edi_interchanges_org_created', table_name='edi_interchanges')
    op.drop_table('edi_interchanges')
    op.drop_index(op.f('ix_punchout_credentials_org_id'), table_name='punchout_credentials')
    op.drop_table('punchout_credentials')
    op.drop_index(op.f('ix_edi_partners_org_id'), table_name='edi_partners')
    op.drop_table('edi_partners')
