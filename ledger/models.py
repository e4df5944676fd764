"""Evidence log tables. ``evidence_entries`` is append-only for the app role; the sequencer (owner) numbers it."""

import datetime as dt

from sqlalchemy import BigInteger, Identity, Index, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, TenantMixin, utcnow


class EvidenceRecord(TenantMixin, Base):
    """One entry as recorded in a business transaction; ``leaf_index`` is set when it is sequenced."""

    __tablename__ = "evidence_entries"
    __table_args__ = (
        Index("ix_evidence_entries_unsequenced", "id", postgresql_where=text("leaf_index IS NULL")),
        Index("ix_evidence_entries_subject", "org_id", "subject"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    entry_data: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    leaf_index: Mapped[int | None] = mapped_column(BigInteger, unique=True)
