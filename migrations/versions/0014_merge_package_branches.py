"""Join the branches the packages grew on (ledger, identifiers, catalogue, orders, RFQ, contracts, webhooks).

From here on a migration has one parent: ``down_revision = "0014"`` or later.

Revision ID: 0014
Revises: 0004, 0005, 0007, 0008, 0009, 0011, 0012, 0013
Create Date: 2026-11-25 14:30:25.624916+00:00
"""

from collections.abc import Sequence

revision: str = '0014'
down_revision: str | None = ('0004', '0005', '0007', '0008', '0009', '0011', '0012', '0013')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
