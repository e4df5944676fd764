"""Purchase orders: orders and lines seen by buyer and supplier, timeline, approvals and their rules,
cost-centre budgets, gapless order numbers, exchange rates to CNY, change orders.

Revision ID: 0009
Revises: 0006
Create Date: 2026-11-25 13:08:19.788936+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tradeloom.rls import CURRENT_ORG, enable_tenant_rls, grant_app

revision: str = '0009'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('approval_rules',
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('min_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('class_prefix', sa.String(length=8), nullable=True),
    sa.Column('approvals_required', sa.SmallInteger(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_rules'))
    )
    op.create_index(op.f('ix_approval_rules_org_id'), 'approval_rules', ['org_id'], unique=False)
    op.create_table('cost_centre_budgets',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('committed', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cost_centre_budgets')),
    sa.UniqueConstraint('org_id', 'code', 'currency', name=op.f('uq_cost_centre_budgets_org_id_code_currency'))
    )
    op.create_index(op.f('ix_cost_centre_budgets_org_id'), 'cost_centre_budgets', ['org_id'], unique=False)
    op.create_table('fx_rates',
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('rate_to_cny', sa.Numeric(precision=18, scale=8), nullable=False),
    sa.Column('updated_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('currency', name=op.f('pk_fx_rates'))
    )
    op.create_table('order_number_sequences',
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('org_id', 'year', name=op.f('pk_order_number_sequences'))
    )
    op.create_table('purchase_orders',
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('buyer_org_id', sa.UUID(), nullable=False),
    sa.Column('supplier_org_id', sa.UUID(), nullable=False),
    sa.Column('delivery_site_id', sa.UUID(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('fx_rate_to_cny', sa.Numeric(precision=18, scale=8), nullable=False),
    sa.Column('payment_terms', sa.String(length=200), nullable=False),
    sa.Column('requested_date', sa.Date(), nullable=True),
    sa.Column('cost_centre', sa.String(length=32), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('confirmation', sa.String(length=8), nullable=True),
    sa.Column('net_total', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax_total', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('gross_total', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('approvals_required', sa.SmallInteger(), nullable=False),
    sa.Column('approvals_given', sa.SmallInteger(), nullable=False),
    sa.Column('budget_reserved', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('created_by_user_id', sa.UUID(), nullable=True),
    sa.Column('updated_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.ForeignKeyConstraint(['buyer_org_id'], ['organizations.id'], name=op.f('fk_purchase_orders_buyer_org_id_organizations')),
    sa.ForeignKeyConstraint(['delivery_site_id'], ['sites.id'], name=op.f('fk_purchase_orders_delivery_site_id_sites')),
    sa.ForeignKeyConstraint(['supplier_org_id'], ['organizations.id'], name=op.f('fk_purchase_orders_supplier_org_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_orders')),
    sa.UniqueConstraint('buyer_org_id', 'number', name=op.f('uq_purchase_orders_buyer_org_id_number'))
    )
    op.create_index('ix_purchase_orders_buyer_created', 'purchase_orders', ['buyer_org_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_purchase_orders_status'), 'purchase_orders', ['status'], unique=False)
    op.create_index('ix_purchase_orders_supplier_created', 'purchase_orders', ['supplier_org_id', 'created_at'], unique=False)
    op.create_table('change_orders',
    sa.Column('order_id', sa.UUID(), nullable=False),
    sa.Column('buyer_org_id', sa.UUID(), nullable=False),
    sa.Column('supplier_org_id', sa.UUID(), nullable=False),
    sa.Column('revision', sa.SmallInteger(), nullable=False),
    sa.Column('proposed_by_org_id', sa.UUID(), nullable=False),
    sa.Column('proposed_by_user_id', sa.UUID(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('line_changes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('decided_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['purchase_orders.id'], name=op.f('fk_change_orders_order_id_purchase_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_orders')),
    sa.UniqueConstraint('order_id', 'revision', name=op.f('uq_change_orders_order_id_revision'))
    )
    op.create_table('order_approvals',
    sa.Column('order_id', sa.UUID(), nullable=False),
    sa.Column('approver_user_id', sa.UUID(), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.Column('step', sa.SmallInteger(), nullable=False),
    sa.Column('at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['purchase_orders.id'], name=op.f('fk_order_approvals_order_id_purchase_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('order_id', 'approver_user_id', name=op.f('pk_order_approvals'))
    )
    op.create_index(op.f('ix_order_approvals_org_id'), 'order_approvals', ['org_id'], unique=False)
    op.create_table('order_events',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('order_id', sa.UUID(), nullable=False),
    sa.Column('buyer_org_id', sa.UUID(), nullable=False),
    sa.Column('supplier_org_id', sa.UUID(), nullable=False),
    sa.Column('at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('actor_org_id', sa.UUID(), nullable=False),
    sa.Column('actor_user_id', sa.UUID(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('from_status', sa.String(length=24), nullable=True),
    sa.Column('to_status', sa.String(length=24), nullable=False),
    sa.Column('order_version', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['purchase_orders.id'], name=op.f('fk_order_events_order_id_purchase_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_events'))
    )
    op.create_index(op.f('ix_order_events_order_id'), 'order_events', ['order_id'], unique=False)
    op.create_table('order_lines',
    sa.Column('order_id', sa.UUID(), nullable=False),
    sa.Column('buyer_org_id', sa.UUID(), nullable=False),
    sa.Column('supplier_org_id', sa.UUID(), nullable=False),
    sa.Column('line_no', sa.SmallInteger(), nullable=False),
    sa.Column('material_id', sa.UUID(), nullable=False),
    sa.Column('material_code', sa.String(length=24), nullable=False),
    sa.Column('material_class', sa.String(length=8), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('unit', sa.String(length=3), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax_rate', sa.String(length=8), nullable=False),
    sa.Column('net', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('gross', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('requested_date', sa.Date(), nullable=True),
    sa.Column('confirmed_quantity', sa.Numeric(precision=18, scale=6), nullable=True),
    sa.Column('confirmed_date', sa.Date(), nullable=True),
    sa.Column('price_rule', sa.String(length=32), nullable=True),
    sa.Column('price_reference', sa.String(length=100), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_order_lines_material_id_materials')),
    sa.ForeignKeyConstraint(['order_id'], ['purchase_orders.id'], name=op.f('fk_order_lines_order_id_purchase_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_lines')),
    sa.UniqueConstraint('order_id', 'line_no', name=op.f('uq_order_lines_order_id_line_no'))
    )
    _row_level_security()
    _budget_release()
    _reference_rates()


PARTIES = f"(buyer_org_id = {CURRENT_ORG} OR supplier_org_id = {CURRENT_ORG})"
# The states each party's own steps lead to: a supplier can never submit, approve, send or cancel an order,
# a buyer never rejects or ships one (both may change a confirmed order by an agreed change order).
SUPPLIER_STATES = "('confirmed', 'rejected', 'in_production', 'partially_shipped', 'shipped')"
BUYER_FORBIDDEN_STATES = "('rejected', 'partially_shipped', 'shipped')"


def _two_party(table: str, privileges: str, insert_check: str) -> None:
    """Both parties read; ``insert_check`` says who may add rows; both may update rows of their orders."""
    grant_app(table, privileges)
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY parties_read ON {table} FOR SELECT TO tradeloom_app USING {PARTIES}")
    op.execute(f"CREATE POLICY party_insert ON {table} FOR INSERT TO tradeloom_app WITH CHECK ({insert_check})")
    if "UPDATE" in privileges:
        op.execute(f"CREATE POLICY parties_update ON {table} FOR UPDATE TO tradeloom_app USING {PARTIES} "
                   f"WITH CHECK {PARTIES}")


def _row_level_security() -> None:
    grant_app("purchase_orders", "SELECT, INSERT, UPDATE")
    op.execute("ALTER TABLE purchase_orders ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY parties_read ON purchase_orders FOR SELECT TO tradeloom_app USING {PARTIES}")
    op.execute(f"CREATE POLICY buyer_insert ON purchase_orders FOR INSERT TO tradeloom_app "
               f"WITH CHECK (buyer_org_id = {CURRENT_ORG} AND status = 'draft')")
    op.execute(f"CREATE POLICY party_steps ON purchase_orders FOR UPDATE TO tradeloom_app USING {PARTIES} "
               f"WITH CHECK ((buyer_org_id = {CURRENT_ORG} AND status NOT IN {BUYER_FORBIDDEN_STATES}) "
               f"OR (supplier_org_id = {CURRENT_ORG} AND status IN {SUPPLIER_STATES}))")
    _two_party("order_lines", "SELECT, INSERT, UPDATE", f"buyer_org_id = {CURRENT_ORG}")
    _two_party("order_events", "SELECT, INSERT", f"actor_org_id = {CURRENT_ORG} AND {PARTIES}")
    _two_party("change_orders", "SELECT, INSERT, UPDATE", f"proposed_by_org_id = {CURRENT_ORG} AND {PARTIES}")
    enable_tenant_rls("order_approvals", "SELECT, INSERT, DELETE")
    enable_tenant_rls("approval_rules")
    enable_tenant_rls("cost_centre_budgets")
    enable_tenant_rls("order_number_sequences")
    grant_app("fx_rates", "SELECT")


def _budget_release() -> None:
    """Give back an order's budget reservation. The supplier's rejection releases the buyer's budget, a row the
    supplier cannot write under RLS; this function does only that, and only for a party to the order."""
    op.execute(f"""
        CREATE FUNCTION tl_release_order_budget(p_order_id uuid) RETURNS void
        LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS
        $$ UPDATE cost_centre_budgets b SET committed = b.committed - o.budget_reserved, version = b.version + 1
           FROM purchase_orders o
           WHERE o.id = p_order_id AND (o.buyer_org_id = {CURRENT_ORG} OR o.supplier_org_id = {CURRENT_ORG})
             AND b.org_id = o.buyer_org_id AND b.code = o.cost_centre AND b.currency = o.currency $$;
        REVOKE ALL ON FUNCTION tl_release_order_budget(uuid) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION tl_release_order_budget(uuid) TO tradeloom_app;
    """)


def _reference_rates() -> None:
    """Starting rates to CNY so that orders in common currencies can be placed; operators keep them current."""
    rates = {"CNY": "1", "USD": "7.1", "EUR": "7.7", "JPY": "0.048", "HKD": "0.91", "GBP": "9", "KRW": "0.0052",
             "SGD": "5.3"}
    values = ", ".join(f"('{code}', {rate}, now())" for code, rate in rates.items())
    op.execute(f"INSERT INTO fx_rates (currency, rate_to_cny, updated_at) VALUES {values}")


def downgrade() -> None:
    op.execute("DROP FUNCTION tl_release_order_budget(uuid)")
    op.drop_table('order_lines')
    op.drop_index(op.f('ix_order_events_order_id'), table_name='order_events')
    op.drop_table('order_events')
    op.drop_index(op.f('ix_order_approvals_org_id'), table_name='order_approvals')
    op.drop_table('order_approvals')
    op.drop_table('change_orders')
    op.drop_index('ix_purchase_orders_supplier_created', table_name='purchase_orders')
    op.drop_index(op.f('ix_purchase_orders_status'), table_name='purchase_orders')
    op.drop_index('ix_purchase_orders_buyer_created', table_name='purchase_orders')
    op.drop_table('purchase_orders')
    op.drop_table('order_number_sequences')
    op.drop_table('fx_rates')
    op.drop_index(op.f('ix_cost_centre_budgets_org_id'), table_name='cost_centre_budgets')
    op.drop_table('cost_centre_budgets')
    op.drop_index(op.f('ix_approval_rules_org_id'), table_name='approval_rules')
    op.drop_table('approval_rules')
