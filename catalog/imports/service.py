"""Import files: accept an upload (fast checks, then queue), run it as a job, report per row.

All-or-nothing per file: the rows are checked, then written, in one transaction. If any row has a
problem, or writing fails, that transaction is rolled back and only the import's status and report are
stored (in a transaction of their own). Progress counters are written in short separate transactions so
that ``GET /imports/{id}`` shows them while the import runs.
"""

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import defer

from catalog.imports import apply
from catalog.imports.models import CatalogImport
from catalog.imports.reading import Encoding, FileFormat, read_sheet
from catalog.imports.rows import ImportKind, ParsedRow, RowProblem, check_header, file_problems, parse_rows
from tradeloom.audit import Actor, record_audit
from tradeloom.db import tenant_transaction, utcnow
from tradeloom.errors import NotFound, TradeloomError
from tradeloom.outbox.service import emit

log = logging.getLogger(__name__)

IMPORT_REQUESTED = "catalog.import_requested"
IMPORT_SUCCEEDED = "catalog.import_succeeded"  # e.g. for search indexing of the new materials
MAX_PROBLEMS_KEPT = 1_000  # the count is exact; the list in the report stops here
_PROGRESS_EVERY = 1_000


async def request_import(
    session: AsyncSession, *, actor: Actor, kind: ImportKind, file_format: FileFormat, filename: str,
    content: bytes, dry_run: bool, encoding: Encoding | None = None,
) -> CatalogImport:
    """Check that the file can be read and has the right columns (else 422), then queue its import."""
    sheet = read_sheet(content, file_format, encoding)
    check_header(kind, sheet.header)
    record = CatalogImport(
        org_id=actor.org_id, created_by_user_id=actor.user_id, kind=kind.value, file_format=file_format.value,
        filename=filename[:255], encoding=sheet.encoding.value if sheet.encoding else None, content=content,
        dry_run=dry_run, status="queued", total_rows=len(sheet.rows), processed_rows=0, error_count=0,
        created_count=0, report={},
    )
    session.add(record)
    await session.flush()
    await emit(session, org_id=actor.org_id, topic=IMPORT_REQUESTED, payload={"import_id": str(record.id)})
    await record_audit(session, actor=actor, action="catalog.import_requested", object_type="catalog_import",
                       object_id=record.id, details={"kind": kind.value, "rows": len(sheet.rows), "dry_run": dry_run})
    return record


async def get_import(session: AsyncSession, *, import_id: uuid.UUID) -> CatalogImport:
    """One import of the caller's organization (row-level security hides the others: 404)."""
    record = await session.get(CatalogImport, import_id)
    if record is None:
        raise NotFound("No such import.", code="catalog.import_not_found")
    return record


async def recent_imports(session: AsyncSession, *, limit: int) -> list[CatalogImport]:
    """The caller's organization's latest imports, newest first (row-level security hides the others)."""
    return list((await session.scalars(
        select(CatalogImport).options(defer(CatalogImport.content))
        .order_by(CatalogImport.created_at.desc()).limit(limit))).all())


@dataclass
class _Outcome:
    problems: list[RowProblem] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)


class _Rejected(Exception):
    def __init__(self, outcome: _Outcome) -> None:
        super().__init__("rows have problems")
        self.outcome = outcome


@dataclass(frozen=True)
class _Claimed:
    id: uuid.UUID
    actor: Actor
    kind: ImportKind
    file_format: FileFormat
    encoding: Encoding | None
    content: bytes
    dry_run: bool


async def _claim(sessionmaker: async_sessionmaker[AsyncSession], org_id: uuid.UUID,
                 import_id: uuid.UUID) -> _Claimed | None:
    """Move a queued import to running; None when it is not queued (a redelivered job does nothing)."""
    async with tenant_transaction(sessionmaker, org_id=org_id) as session:
        record = await session.scalar(
            select(CatalogImport).where(CatalogImport.id == import_id, CatalogImport.status == "queued")
            .with_for_update()
        )
        if record is None:
            return None
        record.status, record.started_at = "running", utcnow()
        return _Claimed(record.id, Actor(org_id=record.org_id, user_id=record.created_by_user_id),
                        ImportKind(record.kind), FileFormat(record.file_format),
                        Encoding(record.encoding) if record.encoding else None, record.content, record.dry_run)


async def _progress(sessionmaker: async_sessionmaker[AsyncSession], claimed: _Claimed, processed: int) -> None:
    async with tenant_transaction(sessionmaker, org_id=claimed.actor.org_id) as session:
        await session.execute(update(CatalogImport).where(CatalogImport.id == claimed.id)
                              .values(processed_rows=processed))


async def _checked_rows(sessionmaker: async_sessionmaker[AsyncSession], claimed: _Claimed,
                        today: dt.date) -> tuple[list[ParsedRow], list[RowProblem]]:
    sheet = read_sheet(claimed.content, claimed.file_format, claimed.encoding)
    rows: list[ParsedRow] = []
    problems: list[RowProblem] = []
    for start in range(0, len(sheet.rows), _PROGRESS_EVERY):
        chunk = parse_rows(claimed.kind, sheet.header, sheet.rows[start:start + _PROGRESS_EVERY], today=today,
                           first_row=start + 2)
        rows += chunk.rows
        problems += chunk.problems
        await _progress(sessionmaker, claimed, start + len(chunk.rows))
    return rows, problems + file_problems(rows)


def _report(claimed: _Claimed, outcome: _Outcome, *, error: str | None = None) -> dict[str, Any]:
    problems = sorted(outcome.problems, key=lambda p: (p.row, p.column))
    return {
        "kind": claimed.kind.value, "format": claimed.file_format.value,
        "encoding": claimed.encoding.value if claimed.encoding else None, "dry_run": claimed.dry_run,
        "problem_count": len(problems), "problems": [p.as_dict() for p in problems[:MAX_PROBLEMS_KEPT]],
        "created": outcome.created, "error": error,
    }


async def _finish(session: AsyncSession, claimed: _Claimed, *, status: str, outcome: _Outcome,
                  error: str | None = None) -> None:
    checked = {} if status == "failed" else {"processed_rows": CatalogImport.total_rows}
    await session.execute(update(CatalogImport).where(CatalogImport.id == claimed.id).values(
        status=status, finished_at=utcnow(), error_count=len(outcome.problems), **checked,
        created_count=len(outcome.created) if status == "succeeded" else 0,
        report=_report(claimed, outcome, error=error),
    ))


async def run_import(sessionmaker: async_sessionmaker[AsyncSession], *, org_id: uuid.UUID, import_id: uuid.UUID,
                     today: dt.date | None = None) -> str | None:
    """The job's work: check every row, then write them all or none; returns the final status."""
    claimed = await _claim(sessionmaker, org_id, import_id)
    if claimed is None:
        return None
    today = today or utcnow().date()
    try:
        async with tenant_transaction(sessionmaker, org_id=org_id, user_id=claimed.actor.user_id) as session:
            rows, problems = await _checked_rows(sessionmaker, claimed, today)
            outcome = _Outcome(problems + await apply.stored_data_problems(
                session, actor=claimed.actor, kind=claimed.kind, rows=rows))
            if outcome.problems:
                raise _Rejected(outcome)
            if not claimed.dry_run:
                outcome.created = await apply.write_rows(session, actor=claimed.actor, kind=claimed.kind, rows=rows)
                await emit(session, org_id=org_id, topic=IMPORT_SUCCEEDED, payload={
                    "import_id": str(import_id), "kind": claimed.kind.value, "created": len(outcome.created)})
            status = "validated" if claimed.dry_run else "succeeded"
            await _finish(session, claimed, status=status, outcome=outcome)
            return status
    except _Rejected as rejected:
        status, outcome, error = "rejected", rejected.outcome, None
    except (SQLAlchemyError, TradeloomError) as exc:
        log.exception("catalog import failed", extra={"import_id": str(import_id)})
        error = f"The import could not be written ({type(exc).__name__}); nothing was stored."
        status, outcome = "failed", _Outcome()
    async with tenant_transaction(sessionmaker, org_id=org_id) as session:
        await _finish(session, claimed, status=status, outcome=outcome, error=error)
    return status
