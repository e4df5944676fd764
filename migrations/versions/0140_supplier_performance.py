"""Supplier performance: buyer reviews, and the monthly fact aggregates that scorecards are computed from.

``tl_supplier_performance_facts(suppliers, buyer, since)`` reads orders, goods receipts, returns, RFQ invitations,
invoices and reviews of every organization (SECURITY DEFINER) but returns only monthly sums per supplier and
metric, never a row of a document. ``buyer`` narrows the facts to one buyer and may only be the caller's own
organization (any other value returns nothing); ``NULL`` gives the platform-wide aggregates.

Revision ID: 0140
Revises: 0099
Create Date: 2026-11-25 18:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tradeloom.rls import CURRENT_ORG, grant_app

revision: str = '0140'
down_revision: str | None = '0099'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTIES = f"(buyer_org_id = {CURRENT_ORG} OR supplier_org_id = {CURRENT_ORG})"
# who: a supplier in the list (or any), a buyer that is the caller (or any); always with the caller's own check
_WHO = ("(p_suppliers IS NULL OR {t}.supplier_org_id = ANY(p_suppliers)) "
        f"AND (p_buyer IS NULL OR ({{t}}.buyer_org_id = p_buyer AND p_buyer = {CURRENT_ORG}))")
_MONTH = "date_trunc('month', {0} AT TIME ZONE 'UTC')::date"

FACTS = f"""
WITH receipt_lines AS (
  SELECT r.supplier_org_id, r.buyer_org_id, {_MONTH.format('r.received_at')} AS month,
         coalesce(l.confirmed_date, l.requested_date, o.requested_date) AS due,
         (r.received_at AT TIME ZONE 'UTC')::date AS received, g.accepted, g.rejected,
         coalesce((SELECT sum((e->>'quantity')::numeric) FROM return_requests rr, jsonb_array_elements(rr.lines) e
                   WHERE rr.receipt_id = r.id AND rr.status <> 'refused' AND e->>'receipt_line_id' = g.id::text), 0)
           AS returned
  FROM goods_receipts r JOIN goods_receipt_lines g ON g.receipt_id = r.id
  JOIN order_lines l ON l.id = g.order_line_id JOIN purchase_orders o ON o.id = r.order_id
  WHERE r.received_at >= p_since AND {_WHO.format(t='r')}
), sent AS (
  SELECT e.order_id, e.supplier_org_id, e.buyer_org_id, min(e.at) AS sent_at FROM order_events e
  WHERE e.to_status = 'sent' AND e.at >= p_since AND {_WHO.format(t='e')} GROUP BY 1, 2, 3
), answered AS (
  SELECT s.supplier_org_id, {_MONTH.format('s.sent_at')} AS month,
         extract(epoch FROM (SELECT min(a.at) FROM order_events a WHERE a.order_id = s.order_id
                             AND a.kind IN ('order.confirmed', 'order.rejected') AND a.at >= s.sent_at)
                 - s.sent_at) / 3600 AS hours, s.sent_at
  FROM sent s
), invited AS (
  SELECT i.supplier_org_id, {_MONTH.format('f.deadline')} AS month,
         EXISTS (SELECT FROM quotations q WHERE q.rfq_id = i.rfq_id AND q.org_id = i.supplier_org_id) AS quoted
  FROM rfq_invitations i JOIN (SELECT id, org_id AS buyer_org_id, deadline, status FROM rfqs) f ON f.id = i.rfq_id
  WHERE f.deadline >= p_since AND f.deadline < now() AND f.status <> 'cancelled'
    AND (p_suppliers IS NULL OR i.supplier_org_id = ANY(p_suppliers))
    AND (p_buyer IS NULL OR (f.buyer_org_id = p_buyer AND p_buyer = {CURRENT_ORG}))
), invoiced AS (
  SELECT v.supplier_org_id, date_trunc('month', v.issue_date)::date AS month,
         NOT EXISTS (SELECT FROM invoice_lines il WHERE il.invoice_id = v.id AND il.match_status <> 'matched')
           AS clean
  FROM invoices v WHERE v.kind = 'invoice' AND v.issue_date >= p_since AND {_WHO.format(t='v')}
), reviewed AS (
  SELECT w.supplier_org_id, {_MONTH.format('w.created_at')} AS month, w.stars FROM supplier_reviews w
  WHERE w.created_at >= p_since AND {_WHO.format(t='w')}
)
SELECT supplier_org_id, month, 'on_time', count(*) FILTER (WHERE received <= due)::numeric, count(*)
  FROM receipt_lines WHERE due IS NOT NULL GROUP BY 1, 2
UNION ALL
SELECT supplier_org_id, month, 'quality',
       sum(greatest(accepted - returned, 0) / (accepted + rejected)), count(*)
  FROM receipt_lines WHERE accepted + rejected > 0 GROUP BY 1, 2
UNION ALL
SELECT supplier_org_id, month, 'confirmation',
       sum(CASE WHEN hours IS NULL THEN 0 ELSE least(1, greatest(0, (120 - hours) / 96)) END), count(*)
  FROM answered WHERE hours IS NOT NULL OR sent_at < now() - interval '120 hours' GROUP BY 1, 2
UNION ALL
SELECT supplier_org_id, month, 'confirmation_hours', sum(hours), count(*) FROM answered WHERE hours IS NOT NULL
  GROUP BY 1, 2
UNION ALL
SELECT supplier_org_id, month, 'quotation_response', count(*) FILTER (WHERE quoted)::numeric, count(*)
  FROM invited GROUP BY 1, 2
UNION ALL
SELECT supplier_org_id, month, 'invoice_accuracy', count(*) FILTER (WHERE clean)::numeric, count(*)
  FROM invoiced GROUP BY 1, 2
UNION ALL
SELECT supplier_org_id, month, 'reviews', sum((stars - 1) / 4.0), count(*) FROM reviewed GROUP BY 1, 2
UNION ALL
SELECT supplier_org_id, NULL::date, 'buyers', count(DISTINCT buyer_org_id)::numeric, count(DISTINCT buyer_org_id)
  FROM (SELECT supplier_org_id, buyer_org_id FROM receipt_lines
        UNION SELECT supplier_org_id, buyer_org_id FROM sent) parties GROUP BY 1
"""


def upgrade() -> None:
    op.create_table(
        'supplier_reviews',
        sa.Column('order_id', sa.Uuid(), nullable=False),
        sa.Column('buyer_org_id', sa.Uuid(), nullable=False),
        sa.Column('supplier_org_id', sa.Uuid(), nullable=False),
        sa.Column('stars', sa.SmallInteger(), nullable=False),
        sa.Column('comment', sa.String(length=2000), nullable=False),
        sa.Column('author_user_id', sa.Uuid(), nullable=True),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint('stars BETWEEN 1 AND 5', name=op.f('ck_supplier_reviews_stars_range')),
        sa.ForeignKeyConstraint(['buyer_org_id'], ['organizations.id'],
                                name=op.f('fk_supplier_reviews_buyer_org_id_organizations')),
        sa.ForeignKeyConstraint(['order_id'], ['purchase_orders.id'],
                                name=op.f('fk_supplier_reviews_order_id_purchase_orders')),
        sa.ForeignKeyConstraint(['supplier_org_id'], ['organizations.id'],
                                name=op.f('fk_supplier_reviews_supplier_org_id_organizations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier_reviews')),
        sa.UniqueConstraint('order_id', name=op.f('uq_supplier_reviews_order_id')),
    )
    op.create_index(op.f('ix_supplier_reviews_supplier_org_id'), 'supplier_reviews', ['supplier_org_id'])
    grant_app("supplier_reviews", "SELECT, INSERT")
    op.execute("ALTER TABLE supplier_reviews ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY parties_read ON supplier_reviews FOR SELECT TO tradeloom_app USING {PARTIES}")
    op.execute(f"CREATE POLICY buyer_insert ON supplier_reviews FOR INSERT TO tradeloom_app "
               f"WITH CHECK (buyer_org_id = {CURRENT_ORG})")
    op.execute(f"""
        CREATE FUNCTION tl_supplier_performance_facts(p_suppliers uuid[], p_buyer uuid, p_since timestamptz)
        RETURNS TABLE (supplier_org_id uuid, month date, metric text, total numeric, observations bigint)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $${FACTS}$$;
        REVOKE ALL ON FUNCTION tl_supplier_performance_facts(uuid[], uuid, timestamptz) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION tl_supplier_performance_facts(uuid[], uuid, timestamptz) TO tradeloom_app;
    """)


def downgrade() -> None:
    op.execute("DROP FUNCTION tl_supplier_performance_facts(uuid[], uuid, timestamptz)")
    op.drop_index(op.f('ix_supplier_reviews_supplier_org_id'), table_name='supplier_reviews')
    op.drop_table('supplier_reviews')
