"""Registering files as evidence: design IP (a supplier proves it held a drawing at a time) and certificates."""

import asyncio
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.canonical import new_file_salt, salted_file_digest
from ledger.models import EvidenceFile
from ledger.service import record_evidence
from tradeloom.audit import Actor, record_audit


class FileEvidenceKind(StrEnum):
    DESIGN = "design.registered"
    QUALITY_CERTIFICATE = "quality.certificate"


@dataclass(frozen=True)
class RegisteredFile:
    entry_id: int
    payload_digest: str
    salt_hex: str
    stored: bool


async def register_file(
    session: AsyncSession, *, actor: Actor, kind: FileEvidenceKind, subject: str, filename: str, content: bytes,
    keep_copy_in: Path | None,
) -> RegisteredFile:
    """Record the file's salted digest in the log; keep the file itself only when asked (``keep_copy_in``)."""
    salt = new_file_salt()
    digest = salted_file_digest(salt, content).hex()
    receipt = await record_evidence(session, org_id=actor.org_id, kind=kind.value, subject=subject,
                                    payload_digest=digest)
    stored_path = None
    if keep_copy_in is not None:
        stored_path = await asyncio.to_thread(_keep_copy, keep_copy_in / f"{receipt.entry_id}.bin", content)
    session.add(EvidenceFile(org_id=actor.org_id, entry_id=receipt.entry_id, kind=kind.value, filename=filename,
                             size_bytes=len(content), salt=salt, stored_path=stored_path))
    await session.flush()
    await record_audit(session, actor=actor, action="evidence.file_registered", object_type="evidence_entry",
                       object_id=receipt.entry_id, details={"kind": kind.value, "filename": filename,
                                                            "size_bytes": len(content), "stored": bool(stored_path)})
    return RegisteredFile(entry_id=receipt.entry_id, payload_digest=digest, salt_hex=salt.hex(),
                          stored=stored_path is not None)


def _keep_copy(target: Path, content: bytes) -> str:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return str(target)


async def file_salt(session: AsyncSession, *, entry_id: int) -> bytes | None:
    """The salt of one of the caller's registered files (RLS: other organizations' salts stay hidden)."""
    return await session.scalar(select(EvidenceFile.salt).where(EvidenceFile.entry_id == entry_id))
