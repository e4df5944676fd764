"""IoT: quality results of measuring devices (CMM) per production order, and the order's inspected counts.

Revision ID: 0151
Revises: 0150
Create Date: 2026-11-25 18:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tradeloom.rls import enable_tenant_rls

revision: str = '0151'
down_revision: str | None = '0150'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('iot_production_orders',
                  sa.Column('inspected', sa.BigInteger(), server_default=sa.text('0'), nullable=False))
    op.add_column('iot_production_orders',
                  sa.Column('out_of_tolerance', sa.BigInteger(), server_default=sa.text('0'), nullable=False))
    op.create_table('iot_quality_results',
    sa.Column('production_order_id', sa.UUID(), nullable=False),
    sa.Column('device_id', sa.UUID(), nullable=False),
    sa.Column('ts', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('deviation', sa.Double(), nullable=False),
    sa.Column('in_tolerance', sa.Boolean(), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['production_order_id'], ['iot_production_orders.id'], name=op.f('fk_iot_quality_results_production_order_id_iot_production_orders')),
    sa.PrimaryKeyConstraint('production_order_id', 'device_id', 'ts', 'seq', name=op.f('pk_iot_quality_results'))
    )
    op.create_index(op.f('ix_iot_quality_results_org_id'), 'iot_quality_results', ['org_id'], unique=False)
    enable_tenant_rls('iot_quality_results', 'SELECT')  # written by the bridge (owner) only


def downgrade() -> None:
    op.drop_index(op.f('ix_iot_quality_results_org_id'), table_name='iot_quality_results')
    op.drop_table('iot_quality_results')
    op.drop_column('iot_production_orders', 'out_of_tolerance')
    op.drop_column('iot_production_orders', 'inspected')
