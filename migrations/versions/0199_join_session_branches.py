"""Join the branches this session's work grew on (search indexes, settlement terms and tax rates, CRM and
qualifications, ERP pushes and SSCCs, supplier performance, IoT edge sessions and quality results).

From here on a migration has one parent: ``down_revision = "0199"`` or later.

Revision ID: 0199
Revises: 0100, 0112, 0120, 0132, 0140, 0151
Create Date: 2026-11-25 19:30:00+00:00
"""

from collections.abc import Sequence

revision: str = '0199'
down_revision: str | None = ('0100', '0112', '0120', '0132', '0140', '0151')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
