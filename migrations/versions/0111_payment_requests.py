"""Payment requests of order milestones (prepayment on confirmation, on shipment, on receipt); a card payment
may pay one (``stripe_payments.payment_request_id``).

Both parties of the order read, open and update a request (the job that opens it runs as whichever party's
event reached the milestone; the supplier books bank transfers for it, the buyer card payments).

Revision ID: 0111
Revises: 0110
Create Date: 2026-11-25 19:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tradeloom.rls import CURRENT_ORG, grant_app

revision: str = '0111'
down_revision: str | None = '0110'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTIES = f"buyer_org_id = {CURRENT_ORG} OR supplier_org_id = {CURRENT_ORG}"


def upgrade() -> None:
    op.create_table('payment_requests',
    sa.Column('order_id', sa.UUID(), nullable=False),
    sa.Column('order_number', sa.String(length=20), nullable=False),
    sa.Column('buyer_org_id', sa.UUID(), nullable=False),
    sa.Column('supplier_org_id', sa.UUID(), nullable=False),
    sa.Column('milestone', sa.String(length=16), nullable=False),
    sa.Column('percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('payment_reference', sa.String(length=12), nullable=False),
    sa.Column('paid_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('applied_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('overdue_since', sa.Date(), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['purchase_orders.id'],
                            name=op.f('fk_payment_requests_order_id_purchase_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_requests')),
    sa.UniqueConstraint('order_id', 'milestone', name=op.f('uq_payment_requests_order_id_milestone')),
    sa.UniqueConstraint('payment_reference', name=op.f('uq_payment_requests_payment_reference'))
    )
    op.create_index(op.f('ix_payment_requests_buyer_org_id'), 'payment_requests', ['buyer_org_id'], unique=False)
    op.create_index(op.f('ix_payment_requests_order_id'), 'payment_requests', ['order_id'], unique=False)
    op.create_index(op.f('ix_payment_requests_supplier_org_id'), 'payment_requests', ['supplier_org_id'],
                    unique=False)
    op.add_column('stripe_payments', sa.Column('payment_request_id', sa.UUID(), nullable=True))
    grant_app('payment_requests', "SELECT, INSERT, UPDATE")
    op.execute("ALTER TABLE payment_requests ENABLE ROW LEVEL SECURITY")
    for command, clause in (("SELECT", "USING"), ("INSERT", "WITH CHECK")):
        op.execute(f"CREATE POLICY parties_{command.lower()} ON payment_requests FOR {command} TO tradeloom_app "
                   f"{clause} ({PARTIES})")
    op.execute(f"CREATE POLICY parties_update ON payment_requests FOR UPDATE TO tradeloom_app "
               f"USING ({PARTIES}) WITH CHECK ({PARTIES})")


def downgrade() -> None:
    op.drop_column('stripe_payments', 'payment_request_id')
    op.drop_table('payment_requests')
