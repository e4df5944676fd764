"""One sync of a connector: read everything the mapping asks for, map it, hand it to the bulk jobs.

Their records are all read before anything is written, so a system that fails half-way (500s, timeouts,
after the client's retries) leaves nothing half-synced: the sync is ``failed``, an error is queued and the
next try comes later, backing off while the failures last. What was read goes through the bulk service,
which is idempotent by external id (source system = the connector's name): pulling the same order twice,
or re-running a sync, creates nothing twice. Records that do not map, or that we refuse, land in the
connector's error queue; an error is resolved when a later sync gets that record through.
"""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from commerce.orders.service.queries import fx_rates_to_cny
from integrations.bulk.models import BulkJob
from integrations.bulk.records import MAX_RECORDS, BulkKind
from integrations.bulk.service import request_bulk, run_bulk
from integrations.connectors.clients import CLIENTS, ConnectorRefused, ConnectorUnavailable
from integrations.connectors.mapping import Converter, MappingError, Pull, map_record, parse_mapping, read_path
from integrations.connectors.models import Connector, ConnectorError
from integrations.connectors.secrets import open_credentials
from integrations.connectors.service import CallOptions, transport
from tradeloom.audit import Actor
from tradeloom.db import tenant_transaction, utcnow

MAX_BACKOFF = dt.timedelta(hours=24)
IDOC_SOURCE = "idoc"


@dataclass(frozen=True)
class Failure:
    """One entry for the error queue."""

    stage: str
    code: str
    message: str
    kind: str | None = None
    external_id: str | None = None


@dataclass
class PullResult:
    kind: BulkKind
    records: list[dict[str, Any]] = field(default_factory=list)
    unmapped: int = 0


@dataclass
class SyncOutcome:
    status: str = "succeeded"
    failures: list[Failure] = field(default_factory=list)
    synced: dict[str, set[str]] = field(default_factory=dict)  # kind → external ids now created or existing
    summary: dict[str, Any] = field(default_factory=dict)


def map_into(result: PullResult, pull: Pull, theirs: dict[str, Any], converter: Converter,
             failures: list[Failure]) -> None:
    """Add their record, mapped, to ``result``; or note why it would not map."""
    try:
        result.records.append(map_record(pull, theirs, converter))
    except MappingError as exc:
        result.unmapped += 1
        their_id = read_path(theirs, pull.external_id)
        failures.append(Failure("map", "mapping_failed", f"{exc.field}: {exc.message}", pull.kind.value,
                                None if their_id is None else str(their_id).replace("\x00", "\ufffd")))


async def _fetch(connector: Connector, options: CallOptions, pulls: Sequence[Pull], converter: Converter,
                 outcome: SyncOutcome) -> list[PullResult]:
    results = []
    credentials = open_credentials(options.box(), connector.id, connector.credentials)
    async with CLIENTS[connector.profile](transport(connector, options), credentials) as erp:
        for pull in pulls:
            if IDOC_SOURCE in pull.source:
                continue  # IDocs are sent to us (receive_idoc), not pulled
            result = PullResult(pull.kind)
            async for page in erp.pull(pull.source):
                for theirs in page:
                    map_into(result, pull, theirs, converter, outcome.failures)
            results.append(result)
    return results


async def _hand_over(sessionmaker: async_sessionmaker[AsyncSession], connector: Connector, result: PullResult,
                     outcome: SyncOutcome) -> None:
    """Run the records as bulk jobs (in-process) and queue the records they refused."""
    counts = {"fetched": len(result.records) + result.unmapped, "unmapped": result.unmapped, "created": 0,
              "existing": 0, "rejected": 0}
    job_ids: list[str] = []
    synced = outcome.synced.setdefault(result.kind.value, set())
    for start in range(0, len(result.records), MAX_RECORDS):
        async with tenant_transaction(sessionmaker, org_id=connector.org_id) as session:
            job = await request_bulk(session, actor=Actor(org_id=connector.org_id), kind=result.kind,
                                     source_system=connector.name, records=result.records[start:start + MAX_RECORDS])
            job_id = job.id
        await run_bulk(sessionmaker, org_id=connector.org_id, job_id=job_id)
        async with tenant_transaction(sessionmaker, org_id=connector.org_id) as session:
            finished = await session.get(BulkJob, job_id)
            assert finished is not None
            job_ids.append(str(job_id))
            for entry in finished.results:
                counts[entry["status"]] += 1
                if entry["status"] == "rejected":
                    first = entry["problems"][0]
                    message = "; ".join(f"{p['pointer'] or '/'} {p['message']}" for p in entry["problems"])
                    outcome.failures.append(Failure("record", first["code"], message[:1000], result.kind.value,
                                                    entry["external_id"]))
                elif entry["external_id"] is not None:
                    synced.add(entry["external_id"])
    earlier = outcome.summary.get(result.kind.value)  # a second pull of the same kind adds to the first
    if earlier is not None:
        counts = {key: earlier[key] + value for key, value in counts.items()}
        job_ids = earlier["jobs"] + job_ids
    outcome.summary[result.kind.value] = counts | {"jobs": job_ids}


async def queue_failures(session: AsyncSession, connector: Connector, failures: Sequence[Failure]) -> None:
    """Add to the open queue; a failure seen before (same stage, record and code) counts up instead."""
    now = utcnow()
    for failure in failures:
        bumped = await session.execute(update(ConnectorError).where(
            ConnectorError.connector_id == connector.id, ConnectorError.status == "open",
            ConnectorError.stage == failure.stage, ConnectorError.code == failure.code,
            ConnectorError.kind.is_not_distinct_from(failure.kind),
            ConnectorError.external_id.is_not_distinct_from(failure.external_id),
        ).values(occurrences=ConnectorError.occurrences + 1, last_seen_at=now, message=failure.message))
        if bumped.rowcount == 0:  # type: ignore[attr-defined]
            session.add(ConnectorError(org_id=connector.org_id, connector_id=connector.id, stage=failure.stage,
                                       kind=failure.kind, external_id=failure.external_id, code=failure.code,
                                       message=failure.message, status="open", occurrences=1, created_at=now,
                                       last_seen_at=now))


async def _resolve(session: AsyncSession, connector: Connector, outcome: SyncOutcome) -> None:
    """Errors the sync has cleared: fetch errors once a fetch worked, record errors once the record got in."""
    if outcome.status != "failed":
        await session.execute(update(ConnectorError).where(
            ConnectorError.connector_id == connector.id, ConnectorError.status == "open",
            ConnectorError.stage == "fetch").values(status="resolved"))
    for kind, external_ids in outcome.synced.items():
        if external_ids:
            await session.execute(update(ConnectorError).where(
                ConnectorError.connector_id == connector.id, ConnectorError.status == "open",
                ConnectorError.kind == kind, ConnectorError.external_id.in_(sorted(external_ids)),
            ).values(status="resolved"))


def _next_sync(connector: Connector, failed: bool, now: dt.datetime) -> dt.datetime | None:
    """On schedule; after failures, back off (doubling) but never wait more than a day."""
    base = dt.timedelta(minutes=connector.schedule_minutes or 5)
    if not failed:
        return now + base if connector.schedule_minutes else None
    return now + min(base * 2 ** min(connector.consecutive_failures, 16), MAX_BACKOFF)


async def _record(sessionmaker: async_sessionmaker[AsyncSession], connector: Connector, outcome: SyncOutcome) -> None:
    async with tenant_transaction(sessionmaker, org_id=connector.org_id) as session:
        stored = await session.scalar(select(Connector).where(Connector.id == connector.id).with_for_update())
        if stored is None:
            return
        failed = outcome.status == "failed"
        stored.consecutive_failures = stored.consecutive_failures + 1 if failed else 0
        now = utcnow()
        stored.last_sync_at, stored.last_status, stored.last_summary = now, outcome.status, outcome.summary
        stored.next_sync_at = _next_sync(stored, failed, now)
        await queue_failures(session, stored, outcome.failures)
        await _resolve(session, stored, outcome)


async def _load(sessionmaker: async_sessionmaker[AsyncSession], org_id: uuid.UUID,
                connector_id: uuid.UUID) -> tuple[Connector, Converter] | None:
    async with tenant_transaction(sessionmaker, org_id=org_id) as session:
        connector = await session.get(Connector, connector_id)
        if connector is None or not connector.is_active:
            return None
        session.expunge(connector)
        return connector, Converter(await fx_rates_to_cny(session))


async def run_sync(sessionmaker: async_sessionmaker[AsyncSession], *, org_id: uuid.UUID, connector_id: uuid.UUID,
                   options: CallOptions) -> SyncOutcome | None:
    """Pull, map and hand over everything the connector's mapping names; None for a missing or idle connector."""
    loaded = await _load(sessionmaker, org_id, connector_id)
    if loaded is None:
        return None
    connector, converter = loaded
    outcome = SyncOutcome()
    async with tenant_transaction(sessionmaker, org_id=org_id) as lock:
        # one sync per connector at a time: a second one waits, then finds the records already mapped
        await lock.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                           {"key": f"connector-sync:{connector_id}"})
        try:
            fetched = await _fetch(connector, options, parse_mapping(connector.mapping_yaml).pulls, converter, outcome)
        except (ConnectorUnavailable, ConnectorRefused) as exc:
            code = "connector_unavailable" if isinstance(exc, ConnectorUnavailable) else "connector_refused"
            outcome.status, outcome.failures = "failed", [Failure("fetch", code, str(exc)[:1000])]
            fetched = []
        for result in fetched:
            await _hand_over(sessionmaker, connector, result, outcome)
    if outcome.status != "failed" and outcome.failures:
        outcome.status = "partial"
    await _record(sessionmaker, connector, outcome)
    return outcome
