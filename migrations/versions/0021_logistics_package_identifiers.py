"""Logistics: identifiers of packages and pallets, the order number on the shipment (for its carrier)

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-25 15:15:35.167724+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('shipments', sa.Column('order_number', sa.String(length=20), nullable=False, server_default=''))
    op.alter_column('shipments', 'order_number', server_default=None)
    op.add_column('shipment_packages', sa.Column('identifier_id', sa.UUID(), nullable=True))
    op.add_column('shipment_packages', sa.Column('identifier_handle', sa.String(length=255), nullable=True))
    op.create_index(op.f('ix_shipment_packages_identifier_handle'), 'shipment_packages', ['identifier_handle'], unique=False)
    op.create_foreign_key(op.f('fk_shipment_packages_identifier_id_identifiers'), 'shipment_packages', 'identifiers', ['identifier_id'], ['id'])


def downgrade() -> None:
    op.drop_column('shipments', 'order_number')
    op.drop_constraint(op.f('fk_shipment_packages_identifier_id_identifiers'), 'shipment_packages', type_='foreignkey')
    op.drop_index(op.f('ix_shipment_packages_identifier_handle'), table_name='shipment_packages')
    op.drop_column('shipment_packages', 'identifier_handle')
    op.drop_column('shipment_packages', 'identifier_id')
