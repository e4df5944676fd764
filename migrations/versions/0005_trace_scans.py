"""Ledger: scans of public traceability pages (platform rows, reached only through two narrow functions).

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-25 13:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tradeloom.db import APP_ROLE

revision: str = '0005'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORD = "tl_record_trace_scan(text, cidr, text)"
SUMMARY = "tl_trace_scan_summary(text, timestamptz, timestamptz)"


def upgrade() -> None:
    op.create_table('trace_scans',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('identifier', sa.String(length=500), nullable=False),
    sa.Column('scanned_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('network', postgresql.CIDR(), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trace_scans'))
    )
    op.create_index('ix_trace_scans_identifier', 'trace_scans', ['identifier', 'scanned_at'], unique=False)
    # The app role gets no privilege on the table itself: it may add a scan (stamped with the server's
    # clock, so no back-dating) and read one identifier's aggregate, never list rows or other identifiers.
    op.execute("""
        CREATE FUNCTION tl_record_trace_scan(p_identifier text, p_network cidr, p_language text)
        RETURNS void LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
          INSERT INTO trace_scans (identifier, network, language) VALUES (p_identifier, p_network, p_language)
        $$;
        CREATE FUNCTION tl_trace_scan_summary(p_identifier text, p_recent_since timestamptz, p_handed_over_at timestamptz)
        RETURNS TABLE (scan_count bigint, first_scanned_at timestamptz, first_network text, first_language text,
                       recent_networks bigint, networks_after_handover bigint)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
          SELECT count(*),
                 min(s.scanned_at),
                 (SELECT f.network::text FROM trace_scans f WHERE f.identifier = p_identifier
                   ORDER BY f.scanned_at, f.id LIMIT 1),
                 (SELECT f.language FROM trace_scans f WHERE f.identifier = p_identifier
                   ORDER BY f.scanned_at, f.id LIMIT 1),
                 count(DISTINCT s.network) FILTER (WHERE s.scanned_at >= p_recent_since),
                 count(DISTINCT s.network) FILTER (WHERE s.scanned_at > p_handed_over_at)
          FROM trace_scans s WHERE s.identifier = p_identifier
        $$;
    """)
    for function in (RECORD, SUMMARY):
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SUMMARY}")
    op.execute(f"DROP FUNCTION {RECORD}")
    op.drop_index('ix_trace_scans_identifier', table_name='trace_scans')
    op.drop_table('trace_scans')
