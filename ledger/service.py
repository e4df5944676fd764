"""The ledger's public operations for other packages. ``record_evidence`` is the one every key step calls."""

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.canonical import EvidenceEntry, EvidenceFormatError
from ledger.models import EvidenceRecord
from tradeloom.db import utcnow
from tradeloom.driver_statements import DriverStatement
from tradeloom.errors import Invalid


@dataclass(frozen=True)
class EvidenceReceipt:
    """What the caller may keep: the entry id (to fetch its bundle once sequenced) and its leaf hash."""

    entry_id: int
    leaf_hash_hex: str


_RECORD_EVIDENCE = DriverStatement(  # every key step runs it
    insert(EvidenceRecord).values({name: bindparam(name) for name in (
        "org_id", "kind", "subject", "entry_data", "leaf_hash", "recorded_at")}).returning(EvidenceRecord.id))


async def record_evidence(
    session: AsyncSession, *, org_id: uuid.UUID, kind: str, subject: str,
    payload: dict[str, Any] | None = None, payload_digest: str | None = None,
) -> EvidenceReceipt:
    """Add an unsequenced entry in the caller's transaction: cheap, no global lock.

    ``kind`` names the step (``order.submitted``, ``contract.signed``), ``subject`` the object
    (``order:<id>``); give either JSON ``payload`` facts or the hex salted digest of a file.
    """
    try:
        entry = EvidenceEntry(kind=kind, subject=subject, org=str(org_id), recorded_at=utcnow(),
                              payload=payload, payload_digest=payload_digest)
        entry_data = entry.canonical_bytes()
    except (EvidenceFormatError, ValueError) as exc:
        raise Invalid(f"Evidence entry is malformed: {exc}", code="evidence_invalid") from exc
    leaf = entry.leaf_hash()
    entry_id = await _RECORD_EVIDENCE.scalar(session, {
        "org_id": org_id, "kind": kind, "subject": subject, "entry_data": entry_data, "leaf_hash": leaf,
        "recorded_at": entry.recorded_at,
    })
    assert entry_id is not None
    return EvidenceReceipt(entry_id=entry_id, leaf_hash_hex=leaf.hex())


@dataclass(frozen=True)
class EvidenceRef:
    """One of the caller's evidence entries about a subject, for an "evidence" link on its page."""

    entry_id: int
    kind: str
    recorded_at: dt.datetime
    sequenced: bool

    @property
    def bundle_url(self) -> str:
        return f"/api/v1/ledger/bundles/{self.entry_id}"


async def evidence_for_subject(session: AsyncSession, *, subject: str) -> list[EvidenceRef]:
    """The caller's organization's entries about ``subject`` (RLS hides the other party's), oldest first."""
    rows = await session.execute(
        select(EvidenceRecord.id, EvidenceRecord.kind, EvidenceRecord.recorded_at, EvidenceRecord.leaf_index)
        .where(EvidenceRecord.subject == subject).order_by(EvidenceRecord.id)
    )
    return [EvidenceRef(entry_id=row.id, kind=row.kind, recorded_at=row.recorded_at,
                        sequenced=row.leaf_index is not None) for row in rows]
