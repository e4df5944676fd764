"""Evidence log tables. ``evidence_entries`` is append-only for the app role; the sequencer (owner) numbers it.

``trace_scans`` counts public scans of traceability labels; it is platform data that the app role reaches
only through two narrow SQL functions (see migrations/versions/0005_trace_scans.py and ledger/scans.py).
"""

import datetime as dt

from sqlalchemy import BigInteger, Identity, Index, LargeBinary, String, func, text
from sqlalchemy.dialects.postgresql import CIDR
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


class TraceScan(Base):
    """One view of a traceability page: when, from which coarse network (/24, /48), in which language.

    Deliberately no full IP address, no user agent, no cookie: nothing that identifies a person.
    """

    __tablename__ = "trace_scans"
    __table_args__ = (Index("ix_trace_scans_identifier", "identifier", "scanned_at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    identifier: Mapped[str] = mapped_column(String(500))
    scanned_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    network: Mapped[str | None] = mapped_column(CIDR)
    language: Mapped[str | None] = mapped_column(String(16))


class EvidenceFile(TenantMixin, Base):
    """A file proven by a salted digest in the log (design IP, quality certificate); the salt stays with us.

    The log holds only SHA-256(salt ‖ file): it reveals nothing about the file. The owner's bundle carries the
    salt, so anyone given the bundle and the file can check that the owner held exactly this file then.
    """

    __tablename__ = "evidence_files"

    entry_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    salt: Mapped[bytes] = mapped_column(LargeBinary)
    stored_path: Mapped[str | None] = mapped_column(String(300))  # only when the owner chose to keep the file here
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
