"""Identifiers (IDIS/Handle, GS1 Digital Link) and EPCIS events, with the narrow public read functions.

Both tables are tenant rows under RLS (``epcis_events`` append-only for the app role). Anonymous resolution
and cross-organization trace graphs read them only through SECURITY DEFINER functions that return
published identifiers' handle, values and GS1 key, and events' public facts: nothing else of a tenant.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-25 12:43:33.298101+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tradeloom.rls import enable_tenant_rls

revision: str = '0004'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('epcis_events',
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('event_type', sa.String(length=32), nullable=False),
    sa.Column('event_time', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=8), nullable=True),
    sa.Column('biz_step', sa.String(length=300), nullable=True),
    sa.Column('disposition', sa.String(length=300), nullable=True),
    sa.Column('event_hash', sa.String(length=100), nullable=False),
    sa.Column('parent_id', sa.String(length=500), nullable=True),
    sa.Column('epcs', postgresql.ARRAY(sa.String(length=500)), nullable=False),
    sa.Column('child_epcs', postgresql.ARRAY(sa.String(length=500)), nullable=False),
    sa.Column('input_epcs', postgresql.ARRAY(sa.String(length=500)), nullable=False),
    sa.Column('output_epcs', postgresql.ARRAY(sa.String(length=500)), nullable=False),
    sa.Column('document', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('capture_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_epcis_events')),
    sa.UniqueConstraint('org_id', 'event_id', name=op.f('uq_epcis_events_org_id_event_id'))
    )
    op.create_index('ix_epcis_events_epcs', 'epcis_events', ['epcs'], unique=False, postgresql_using='gin')
    op.create_index(op.f('ix_epcis_events_org_id'), 'epcis_events', ['org_id'], unique=False)
    op.create_table('identifiers',
    sa.Column('handle', sa.String(length=255), nullable=False),
    sa.Column('suffix', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=True),
    sa.Column('gtin', sa.String(length=14), nullable=True),
    sa.Column('lot', sa.String(length=20), nullable=True),
    sa.Column('serial', sa.String(length=20), nullable=True),
    sa.Column('handle_values', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identifiers')),
    sa.UniqueConstraint('handle', name=op.f('uq_identifiers_handle'))
    )
    op.create_index('ix_identifiers_gs1', 'identifiers', ['gtin', 'lot', 'serial'], unique=False)
    op.create_index(op.f('ix_identifiers_org_id'), 'identifiers', ['org_id'], unique=False)
    enable_tenant_rls("identifiers")
    enable_tenant_rls("epcis_events", "SELECT, INSERT")
    _public_functions()


_PUBLIC_IDENTIFIER = "TABLE (id uuid, handle text, handle_values jsonb, gtin text, lot text, serial text)"
_DEFINER = "LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public"


def _public_functions() -> None:
    """What anyone may read: published identifiers by id or handle or GS1 key; events' public facts."""
    op.execute(f"""
        CREATE FUNCTION tl_public_identifier(p_id uuid, p_handle text) RETURNS {_PUBLIC_IDENTIFIER} {_DEFINER} AS
        $$ SELECT id, handle, handle_values, gtin, lot, serial FROM identifiers
           WHERE published AND (id = p_id OR handle = p_handle) $$;
        CREATE FUNCTION tl_digital_link_identifier(p_gtin text, p_lot text, p_serial text)
        RETURNS {_PUBLIC_IDENTIFIER} {_DEFINER} AS
        $$ SELECT id, handle, handle_values, gtin, lot, serial FROM identifiers
           WHERE published AND gtin = p_gtin AND (lot IS NULL OR lot = p_lot) AND (serial IS NULL OR serial = p_serial)
           ORDER BY serial IS NOT NULL DESC, lot IS NOT NULL DESC, created_at LIMIT 1 $$;
        CREATE FUNCTION tl_epcis_links(p_epcs text[])
        RETURNS TABLE (id uuid, org_id uuid, org_name text, event_type text, event_time timestamptz, action text,
                       biz_step text, disposition text, event_hash text, parent_id text, child_epcs text[],
                       input_epcs text[], output_epcs text[], epcs text[]) {_DEFINER} AS
        $$ SELECT e.id, e.org_id, o.name_zh || ' / ' || o.name_en, e.event_type, e.event_time, e.action, e.biz_step,
                  e.disposition, e.event_hash, e.parent_id, e.child_epcs::text[], e.input_epcs::text[],
                  e.output_epcs::text[], e.epcs::text[]
           FROM epcis_events e JOIN organizations o ON o.id = e.org_id
           WHERE e.epcs && p_epcs::varchar[] ORDER BY e.event_time, e.id LIMIT 1000 $$;
        REVOKE ALL ON FUNCTION tl_public_identifier(uuid, text), tl_digital_link_identifier(text, text, text),
            tl_epcis_links(text[]) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION tl_public_identifier(uuid, text), tl_digital_link_identifier(text, text, text),
            tl_epcis_links(text[]) TO tradeloom_app;
    """)


def downgrade() -> None:
    op.execute("DROP FUNCTION tl_public_identifier(uuid, text), tl_digital_link_identifier(text, text, text),"
               " tl_epcis_links(text[])")
    op.drop_index(op.f('ix_identifiers_org_id'), table_name='identifiers')
    op.drop_index('ix_identifiers_gs1', table_name='identifiers')
    op.drop_table('identifiers')
    op.drop_index(op.f('ix_epcis_events_org_id'), table_name='epcis_events')
    op.drop_index('ix_epcis_events_epcs', table_name='epcis_events', postgresql_using='gin')
    op.drop_table('epcis_events')
