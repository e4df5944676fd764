"""EDI: GS1 company prefixes of suppliers and the SSCC-18 of every dispatched parcel and pallet.

``shipment_ssccs`` is read by both parties of the shipment and written by its supplier; the platform-wide
sequence numbers SSCCs of suppliers without their own prefix.

Revision ID: 0132
Revises: 0131
Create Date: 2026-11-25 19:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tradeloom.db import APP_ROLE
from tradeloom.rls import CURRENT_ORG, enable_tenant_rls, grant_app

revision: str = '0132'
down_revision: str | None = '0131'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTIES = f"(buyer_org_id = {CURRENT_ORG} OR supplier_org_id = {CURRENT_ORG})"


def upgrade() -> None:
    op.create_table('gs1_company_prefixes',
    sa.Column('company_prefix', sa.String(length=12), nullable=False),
    sa.Column('last_serial_reference', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gs1_company_prefixes')),
    sa.UniqueConstraint('company_prefix', name=op.f('uq_gs1_company_prefixes_company_prefix')),
    sa.UniqueConstraint('org_id', name=op.f('uq_gs1_company_prefixes_org_id'))
    )
    op.create_index(op.f('ix_gs1_company_prefixes_org_id'), 'gs1_company_prefixes', ['org_id'], unique=False)
    op.create_table('shipment_ssccs',
    sa.Column('package_id', sa.UUID(), nullable=False),
    sa.Column('shipment_id', sa.UUID(), nullable=False),
    sa.Column('buyer_org_id', sa.UUID(), nullable=False),
    sa.Column('supplier_org_id', sa.UUID(), nullable=False),
    sa.Column('sscc', sa.String(length=18), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['package_id'], ['shipment_packages.id'], name=op.f('fk_shipment_ssccs_package_id_shipment_packages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment_ssccs')),
    sa.UniqueConstraint('package_id', name=op.f('uq_shipment_ssccs_package_id')),
    sa.UniqueConstraint('sscc', name=op.f('uq_shipment_ssccs_sscc'))
    )
    op.create_index(op.f('ix_shipment_ssccs_shipment_id'), 'shipment_ssccs', ['shipment_id'], unique=False)
    enable_tenant_rls("gs1_company_prefixes")
    grant_app("shipment_ssccs", "SELECT, INSERT")
    op.execute("ALTER TABLE shipment_ssccs ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY parties_read ON shipment_ssccs FOR SELECT TO {APP_ROLE} USING {PARTIES}")
    op.execute(f"CREATE POLICY supplier_insert ON shipment_ssccs FOR INSERT TO {APP_ROLE} "
               f"WITH CHECK (supplier_org_id = {CURRENT_ORG})")
    op.execute("CREATE SEQUENCE sscc_platform_serial START 1 NO CYCLE")
    op.execute(f"GRANT USAGE ON SEQUENCE sscc_platform_serial TO {APP_ROLE}")


def downgrade() -> None:
    op.execute("DROP SEQUENCE sscc_platform_serial")
    op.drop_index(op.f('ix_shipment_ssccs_shipment_id'), table_name='shipment_ssccs')
    op.drop_table('shipment_ssccs')
    op.drop_index(op.f('ix_gs1_company_prefixes_org_id'), table_name='gs1_company_prefixes')
    op.drop_table('gs1_company_prefixes')
