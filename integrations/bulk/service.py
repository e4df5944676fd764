"""Bulk jobs: accept up to 10,000 records of one kind (fast checks, then queue), run them as an RQ job.

Idempotent by external id: a record whose ``(source_system, external_id)`` is mapped already is reported
``existing`` with our object's id and nothing is written, so replaying a job (or sending the same order
twice) creates nothing twice. CRM customers and contacts and SRM qualification documents (``UPSERT_KINDS``)
are refreshed instead: their known records update the row they are mapped to, still reported ``existing``.
Jobs of one organization and source system run one after another (an advisory lock), so two concurrent
jobs with the same ids cannot both create them.

The records' writes and the report are stored in one transaction; if writing fails unexpectedly the
job is ``failed`` and nothing of it is stored. Progress is written in short transactions of its own.
"""

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import defer

from integrations.bulk.catalog_records import write_catalog_records
from integrations.bulk.crm_records import write_contact_records, write_customer_records, write_qualification_records
from integrations.bulk.models import BulkJob
from integrations.bulk.order_records import link_partner_records, write_order_records
from integrations.bulk.outcome import Outcomes, Problem, validation_problems
from integrations.bulk.records import (
    MAX_RECORDS,
    OBJECT_TYPE,
    RECORD_MODEL,
    UPSERT_KINDS,
    BulkKind,
    BulkRecord,
    InvoiceRecord,
    OrderRecord,
    PartnerRecord,
    StockLevelRecord,
)
from integrations.bulk.stock_invoice_records import write_invoice_records, write_stock_records
from integrations.external_ids.service import Link, known_ids, record_links
from tradeloom.audit import Actor, record_audit
from tradeloom.db import tenant_transaction, utcnow
from tradeloom.errors import NotFound, PayloadTooLarge, TradeloomError
from tradeloom.outbox.service import emit

log = logging.getLogger(__name__)

BULK_REQUESTED = "integration.bulk_requested"
BULK_FINISHED = "integration.bulk_finished"
UPSERT_WRITERS = {BulkKind.CUSTOMERS: write_customer_records, BulkKind.CONTACTS: write_contact_records,
                  BulkKind.QUALIFICATIONS: write_qualification_records}


async def request_bulk(session: AsyncSession, *, actor: Actor, kind: BulkKind, source_system: str,
                       records: list[dict[str, Any]]) -> BulkJob:
    """Queue a bulk job (more than 10,000 records is 413); each record is checked when the job runs."""
    if len(records) > MAX_RECORDS:
        raise PayloadTooLarge(f"A bulk request carries at most {MAX_RECORDS} records, not {len(records)}; "
                              "split it into several requests.", code="bulk_too_many_records")
    job = BulkJob(org_id=actor.org_id, created_by_user_id=actor.user_id, kind=kind.value, source_system=source_system,
                  records=records, status="queued", total_records=len(records), processed_records=0,
                  created_count=0, existing_count=0, rejected_count=0, results=[])
    session.add(job)
    await session.flush()
    await emit(session, org_id=actor.org_id, topic=BULK_REQUESTED, payload={"job_id": str(job.id)})
    await record_audit(session, actor=actor, action="integration.bulk_requested", object_type="bulk_job",
                       object_id=job.id, details={"kind": kind.value, "source_system": source_system,
                                                  "records": len(records)})
    return job


async def get_job(session: AsyncSession, *, job_id: uuid.UUID) -> BulkJob:
    """One bulk job of the caller's organization (row-level security hides the others: 404)."""
    job = await session.get(BulkJob, job_id, options=[defer(BulkJob.records)])
    if job is None:
        raise NotFound("No such bulk job.", code="bulk_job_not_found")
    return job


async def recent_jobs(session: AsyncSession, *, limit: int) -> list[BulkJob]:
    """The caller's organization's latest bulk jobs, newest first, without their records and reports."""
    return list((await session.scalars(
        select(BulkJob).options(defer(BulkJob.records), defer(BulkJob.results))
        .order_by(BulkJob.created_at.desc()).limit(limit))).all())


@dataclass(frozen=True)
class _Claimed:
    id: uuid.UUID
    actor: Actor
    kind: BulkKind
    source_system: str
    records: list[dict[str, Any]]


async def _claim(sessionmaker: async_sessionmaker[AsyncSession], org_id: uuid.UUID,
                 job_id: uuid.UUID) -> _Claimed | None:
    """Move a queued job to running; None when it is not queued (a redelivered job does nothing)."""
    async with tenant_transaction(sessionmaker, org_id=org_id) as session:
        job = await session.scalar(select(BulkJob).where(BulkJob.id == job_id, BulkJob.status == "queued")
                                   .with_for_update())
        if job is None:
            return None
        job.status, job.started_at = "running", utcnow()
        return _Claimed(job.id, Actor(org_id=job.org_id, user_id=job.created_by_user_id), BulkKind(job.kind),
                        job.source_system, job.records)


def _external_id(record: dict[str, Any]) -> str | None:
    value = record.get("external_id") if isinstance(record, dict) else None
    return value if isinstance(value, str) else None


def _parsed(claimed: _Claimed, outcomes: Outcomes) -> list[tuple[int, BulkRecord]]:
    """Each record validated on its own; a record that repeats an earlier external id is refused."""
    model = RECORD_MODEL[claimed.kind]
    parsed: list[tuple[int, BulkRecord]] = []
    first_index: dict[str, int] = {}
    for index, raw in enumerate(claimed.records):
        try:
            record = model.model_validate(raw)
        except ValidationError as exc:
            outcomes.rejected[index] = validation_problems(exc)
            continue
        external_id = record.external_id
        if external_id in first_index:
            outcomes.reject(index, Problem("/external_id", "duplicate_in_request",
                                           f"record {first_index[external_id]} has the same external id"))
            continue
        first_index[external_id] = index
        parsed.append((index, record))
    return parsed


async def _lock_source(session: AsyncSession, claimed: _Claimed) -> None:
    """One job at a time per organization and source system (released when the transaction ends)."""
    key = f"bulk:{claimed.actor.org_id}:{claimed.source_system}"
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


async def _progress(sessionmaker: async_sessionmaker[AsyncSession], claimed: _Claimed, processed: int) -> None:
    async with tenant_transaction(sessionmaker, org_id=claimed.actor.org_id) as session:
        await session.execute(update(BulkJob).where(BulkJob.id == claimed.id).values(processed_records=processed))


async def _write(sessionmaker: async_sessionmaker[AsyncSession], session: AsyncSession, claimed: _Claimed,
                 today: dt.date) -> Outcomes:
    outcomes = Outcomes()
    parsed = _parsed(claimed, outcomes)
    await _lock_source(session, claimed)
    object_type = OBJECT_TYPE[claimed.kind]
    known = await known_ids(session, org_id=claimed.actor.org_id, source_system=claimed.source_system,
                            object_type=object_type, external_ids=[r.external_id for _, r in parsed])
    fresh: list[tuple[int, BulkRecord]] = []
    for index, record in parsed:
        if (object_id := known.get(record.external_id)) is not None:
            outcomes.existing[index] = object_id
        else:
            fresh.append((index, record))
    if claimed.kind in UPSERT_KINDS:  # refreshed when sent again: the writer updates the known ones too
        await UPSERT_WRITERS[claimed.kind](session, actor=claimed.actor, source_system=claimed.source_system,
                                           records=[(i, r, known.get(r.external_id)) for i, r in parsed],
                                           outcomes=outcomes)
    elif claimed.kind is BulkKind.PARTNERS:
        partners = [(index, record) for index, record in fresh if isinstance(record, PartnerRecord)]
        await link_partner_records(session, records=partners, outcomes=outcomes)
    elif claimed.kind is BulkKind.ORDERS:
        orders = [(index, record) for index, record in fresh if isinstance(record, OrderRecord)]
        await write_order_records(session, actor=claimed.actor, source_system=claimed.source_system,
                                  records=orders, outcomes=outcomes,
                                  progress=lambda done: _progress(sessionmaker, claimed, len(known) + done))
    elif claimed.kind is BulkKind.STOCK_LEVELS:
        counts = [(index, record) for index, record in fresh if isinstance(record, StockLevelRecord)]
        await write_stock_records(session, actor=claimed.actor, source_system=claimed.source_system,
                                  records=counts, outcomes=outcomes)
    elif claimed.kind is BulkKind.INVOICES:
        invoices = [(index, record) for index, record in fresh if isinstance(record, InvoiceRecord)]
        await write_invoice_records(session, actor=claimed.actor, source_system=claimed.source_system,
                                    records=invoices, outcomes=outcomes)
    elif fresh:
        await write_catalog_records(session, actor=claimed.actor, kind=claimed.kind, records=fresh, today=today,
                                    outcomes=outcomes)
    by_index = dict(fresh)
    await record_links(session, org_id=claimed.actor.org_id, source_system=claimed.source_system,
                       object_type=object_type, links=[
                           Link(by_index[index].external_id, object_id)
                           for index, object_id in sorted(outcomes.created.items())])
    return outcomes


async def _finish(session: AsyncSession, claimed: _Claimed, *, status: str, results: Sequence[dict[str, Any]],
                  error: str | None = None) -> None:
    counts = {state: sum(1 for entry in results if entry["status"] == state)
              for state in ("created", "existing", "rejected")}
    await session.execute(update(BulkJob).where(BulkJob.id == claimed.id).values(
        status=status, finished_at=utcnow(), results=list(results), error=error,
        processed_records=len(results), created_count=counts["created"], existing_count=counts["existing"],
        rejected_count=counts["rejected"], updated_at=func.now()))


async def run_bulk(sessionmaker: async_sessionmaker[AsyncSession], *, org_id: uuid.UUID, job_id: uuid.UUID,
                   today: dt.date | None = None) -> str | None:
    """The job's work: write every record that passes, report each one; returns the final status."""
    claimed = await _claim(sessionmaker, org_id, job_id)
    if claimed is None:
        return None
    try:
        async with tenant_transaction(sessionmaker, org_id=org_id, user_id=claimed.actor.user_id) as session:
            outcomes = await _write(sessionmaker, session, claimed, today or utcnow().date())
            results = outcomes.report([_external_id(record) for record in claimed.records])
            await _finish(session, claimed, status="succeeded", results=results)
            await emit(session, org_id=org_id, topic=BULK_FINISHED, payload={
                "job_id": str(job_id), "kind": claimed.kind.value, "created": len(outcomes.created),
                "rejected": len(outcomes.rejected)})
            return "succeeded"
    except (SQLAlchemyError, TradeloomError) as exc:
        log.exception("bulk job failed", extra={"job_id": str(job_id)})
        error = f"The records could not be written ({type(exc).__name__}); nothing was stored."
    async with tenant_transaction(sessionmaker, org_id=org_id) as session:
        await _finish(session, claimed, status="failed", results=[], error=error)
    return "failed"
