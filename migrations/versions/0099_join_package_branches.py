"""Join the branches the packages grew on (logistics, settlement, IoT, EDI/PunchOut, bulk and connectors).

From here on a migration has one parent: ``down_revision = "0099"`` or later.

Revision ID: 0099
Revises: 0023, 0043, 0051, 0081, 0082
Create Date: 2026-11-25 17:00:00+00:00
"""

from collections.abc import Sequence

revision: str = '0099'
down_revision: str | None = ('0023', '0043', '0051', '0081', '0082')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
