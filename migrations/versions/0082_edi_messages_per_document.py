"""EDI: outbound messages are written from a document (order, shipment, invoice), one per kind and document.

Revision ID: 0082
Revises: 0070
Create Date: 2026-11-25 16:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0082'
down_revision: str | None = '0070'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('edi_interchanges', sa.Column('source_document_id', sa.Uuid(), nullable=True))
    # messages sent so far were all written from their order
    op.execute("UPDATE edi_interchanges SET source_document_id = source_order_id "
               "WHERE direction = 'out' AND source_order_id IS NOT NULL")
    op.create_index('ux_edi_interchanges_document_message', 'edi_interchanges',
                    ['source_document_id', 'message_types'], unique=True,
                    postgresql_where=sa.text('source_document_id IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ux_edi_interchanges_document_message', table_name='edi_interchanges',
                  postgresql_where=sa.text('source_document_id IS NOT NULL'))
    op.drop_column('edi_interchanges', 'source_document_id')
