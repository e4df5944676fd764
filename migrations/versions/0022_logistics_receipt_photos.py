"""Logistics: the buyer may add photos to its goods receipt (UPDATE of that one column, nothing else)

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-25 16:10:00+00:00
"""

from collections.abc import Sequence

from alembic import op

from tradeloom.rls import CURRENT_ORG

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("GRANT UPDATE (photos) ON goods_receipts TO tradeloom_app")
    op.execute(f"CREATE POLICY buyer_photos ON goods_receipts FOR UPDATE TO tradeloom_app "
               f"USING (buyer_org_id = {CURRENT_ORG}) WITH CHECK (buyer_org_id = {CURRENT_ORG})")


def downgrade() -> None:
    op.execute("DROP POLICY buyer_photos ON goods_receipts")
    op.execute("REVOKE UPDATE (photos) ON goods_receipts FROM tradeloom_app")
