"""Pushes: our documents sent to an organization's ERP, driven by outbox events, once per document.

An event (``order.confirmed``, ``invoice.issued`` …) queues a push for every active connector of the buyer
whose mapping has a push ``on`` that topic (``connector_pushes``, unique per connector, kind and document: an
event delivered twice queues one push). A push maps the document's facts with the push's rules, calls their
system's create, and records their key (``response_id`` in the answer) as the document's external id in the
connector's source system. Their system failing (5xx, timeouts, after the call's own retries) leaves the push
``pending`` with a later ``next_attempt_at`` (doubling, at most six hours; the scheduler picks it up); after
``MAX_ATTEMPTS`` it is ``failed``. A refusal or a document that does not map fails it at once. Every failure
lands in the connector's error queue (stage ``push``); the "retry" action sends it again, and a push that gets
through resolves its errors.

Delivery is at least once: a crash between their answer and our commit sends the document again on the next
attempt. The shipped mappings send our order number as their reference so their duplicate check can catch it.
"""

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from commerce.orders.service.queries import fx_rates_to_cny
from integrations.connectors.clients import CLIENTS, ConnectorRefused, ConnectorUnavailable
from integrations.connectors.documents import document_facts
from integrations.connectors.mapping import (
    Converter,
    MappingError,
    Push,
    PushKind,
    map_document,
    parse_mapping,
    read_path,
)
from integrations.connectors.models import Connector, ConnectorError, ConnectorPush
from integrations.connectors.push_clients import CREATES
from integrations.connectors.secrets import open_credentials
from integrations.connectors.service import CallOptions, request_sync, transport
from integrations.connectors.sync import Failure, queue_failures
from integrations.external_ids.service import Link, ObjectType, record_links
from tradeloom.audit import Actor, record_audit
from tradeloom.db import tenant_transaction, utcnow
from tradeloom.errors import Conflict, NotFound, TradeloomError
from tradeloom.outbox.service import emit

PUSH_REQUESTED = "integration.connector_push_requested"
MAX_ATTEMPTS = 8
FIRST_BACKOFF = dt.timedelta(minutes=1)
MAX_BACKOFF = dt.timedelta(hours=6)
# the events a push may be sent on, and where the document's id and number are in their payload
TOPICS: dict[str, tuple[PushKind, str, str]] = {
    "order.confirmed": (PushKind.PURCHASE_ORDER, "order_id", "number"),
    "invoice.issued": (PushKind.INVOICE, "invoice_id", "fapiao_number"),
    "invoice.approved": (PushKind.INVOICE, "invoice_id", "fapiao_number"),
    "goods.received": (PushKind.GOODS_RECEIPT, "receipt_id", "receipt_number"),
}
OBJECT_TYPES = {PushKind.PURCHASE_ORDER: ObjectType.PURCHASE_ORDER, PushKind.INVOICE: ObjectType.INVOICE,
                PushKind.GOODS_RECEIPT: ObjectType.GOODS_RECEIPT}


def _pushes_on(connector: Connector, topic: str) -> list[Push]:
    try:
        pushes = parse_mapping(connector.mapping_yaml).pushes
    except TradeloomError:
        return []  # a mapping is checked when saved; an old one that no longer parses pushes nothing
    return [push for push in pushes if topic in push.events]


async def queue_pushes(session: AsyncSession, *, topic: str, payload: Mapping[str, Any]) -> list[uuid.UUID]:
    """Queue the pushes this event calls for (in the caller's tenant); returns the ids to send now."""
    if topic not in TOPICS:
        return []
    kind, id_key, number_key = TOPICS[topic]
    object_id, now = uuid.UUID(str(payload[id_key])), utcnow()
    connectors = await session.scalars(select(Connector).where(Connector.is_active).order_by(Connector.name))
    for connector in connectors.all():
        if _pushes_on(connector, topic):
            await session.execute(insert(ConnectorPush).values(
                id=uuid.uuid4(), org_id=connector.org_id, connector_id=connector.id, kind=kind.value,
                object_id=object_id, document_number=str(payload.get(number_key) or object_id)[:40], topic=topic,
                status="pending", attempts=0, next_attempt_at=now, created_at=now, updated_at=now,
            ).on_conflict_do_nothing(index_elements=["connector_id", "kind", "object_id"]))
    pending = await session.scalars(select(ConnectorPush.id).where(
        ConnectorPush.object_id == object_id, ConnectorPush.kind == kind.value, ConnectorPush.status == "pending",
        ConnectorPush.next_attempt_at <= now))  # one waiting out its backoff is left to the scheduler
    return list(pending.all())


def _backoff(attempts: int) -> dt.timedelta:
    return min(FIRST_BACKOFF * 2 ** min(attempts - 1, 16), MAX_BACKOFF)


async def _send(session: AsyncSession, push: ConnectorPush, connector: Connector, options: CallOptions) -> str:
    """Their key for the document just created in their system."""
    spec = next((p for p in _pushes_on(connector, push.topic)), None)
    if spec is None:
        raise MappingError("pushes", f"the mapping no longer pushes {push.kind} on {push.topic}")
    facts = await document_facts(session, kind=PushKind(push.kind), object_id=push.object_id,
                                 source_system=connector.name)
    record = map_document(spec, facts, Converter(await fx_rates_to_cny(session)))
    credentials = open_credentials(options.box(), connector.id, connector.credentials)
    async with CLIENTS[connector.profile](transport(connector, options), credentials) as erp:
        answer = await CREATES[connector.profile](erp, spec.target, record)
    their_id = read_path(answer, spec.response_id) if spec.response_id else answer
    if their_id in (None, "", False) or isinstance(their_id, dict | list):
        raise ConnectorRefused(f"their answer has no key at {spec.response_id or 'the top'}")
    return str(their_id)


async def _sent(session: AsyncSession, push: ConnectorPush, connector: Connector, their_id: str) -> None:
    push.status, push.external_id, push.sent_at, push.last_error = "sent", their_id, utcnow(), None
    push.attempts += 1
    push.next_attempt_at = None
    await record_links(session, org_id=push.org_id, source_system=connector.name,
                       object_type=OBJECT_TYPES[PushKind(push.kind)], links=[Link(their_id, push.object_id)])
    await session.execute(update(ConnectorError).where(
        ConnectorError.connector_id == connector.id, ConnectorError.status == "open", ConnectorError.stage == "push",
        ConnectorError.kind == push.kind, ConnectorError.external_id == push.document_number,
    ).values(status="resolved"))


async def _failed(session: AsyncSession, push: ConnectorPush, connector: Connector, code: str, message: str,
                  *, final: bool) -> None:
    push.attempts += 1
    push.last_error = message[:1000]
    final = final or push.attempts >= MAX_ATTEMPTS
    push.status = "failed" if final else "pending"
    push.next_attempt_at = None if final else utcnow() + _backoff(push.attempts)
    await queue_failures(session, connector, [Failure("push", code, message[:1000], push.kind, push.document_number)])


async def run_push(sessionmaker: async_sessionmaker[AsyncSession], *, org_id: uuid.UUID, push_id: uuid.UUID,
                   options: CallOptions) -> str | None:
    """Send one pending push; returns its status afterwards (None when it was not pending, or is being sent)."""
    async with tenant_transaction(sessionmaker, org_id=org_id) as session:
        push = await session.scalar(select(ConnectorPush).where(
            ConnectorPush.id == push_id, ConnectorPush.status == "pending").with_for_update(skip_locked=True))
        if push is None:
            return None
        connector = await session.get(Connector, push.connector_id)
        if connector is None:
            return None
        if not connector.is_active:
            return push.status
        try:
            await _sent(session, push, connector, await _send(session, push, connector, options))
        except ConnectorUnavailable as exc:
            await _failed(session, push, connector, "connector_unavailable", str(exc), final=False)
        except ConnectorRefused as exc:
            await _failed(session, push, connector, "connector_refused", str(exc), final=True)
        except MappingError as exc:
            await _failed(session, push, connector, "mapping_failed", f"{exc.field}: {exc.message}", final=True)
        return push.status


async def retry_push(session: AsyncSession, *, actor: Actor, push_id: uuid.UUID) -> ConnectorPush:
    """Send a failed (or waiting) push again now, with a fresh set of attempts; a sent one is 409."""
    push = await session.scalar(select(ConnectorPush).where(ConnectorPush.id == push_id).with_for_update()
                                .execution_options(populate_existing=True))
    if push is None:
        raise NotFound("No such push.", code="connector_push_not_found")
    if push.status == "sent":
        raise Conflict("This document was sent already.", code="connector_push_sent")
    push.status, push.attempts, push.next_attempt_at = "pending", 0, utcnow()
    await session.flush()
    await emit(session, org_id=actor.org_id, topic=PUSH_REQUESTED, payload={"push_id": str(push.id)})
    await record_audit(session, actor=actor, action="integration.connector_push_retried",
                       object_type="connector_push", object_id=push.id, details={"document": push.document_number})
    return push


async def retry_error(session: AsyncSession, *, actor: Actor, error_id: uuid.UUID) -> ConnectorError:
    """The error queue's "retry": a push error sends its document again; any other pulls again."""
    error = await session.get(ConnectorError, error_id)
    if error is None:
        raise NotFound("No such connector error.", code="connector_error_not_found")
    if error.stage != "push":
        await request_sync(session, actor=actor, connector_id=error.connector_id)
        return error
    push_id = await session.scalar(select(ConnectorPush.id).where(
        ConnectorPush.connector_id == error.connector_id, ConnectorPush.kind == error.kind,
        ConnectorPush.document_number == error.external_id).order_by(ConnectorPush.created_at.desc()).limit(1))
    if push_id is None:
        raise NotFound("The push of this error is gone.", code="connector_push_not_found")
    await retry_push(session, actor=actor, push_id=push_id)
    return error


async def list_pushes(session: AsyncSession, *, connector_id: uuid.UUID, status: str | None,
                      limit: int = 200) -> list[ConnectorPush]:
    """A connector's pushes, newest first."""
    query = (select(ConnectorPush).where(ConnectorPush.connector_id == connector_id)
             .order_by(ConnectorPush.updated_at.desc()).limit(limit))
    if status is not None:
        query = query.where(ConnectorPush.status == status)
    return list((await session.scalars(query)).all())


async def push_counts(session: AsyncSession, *, connector_id: uuid.UUID) -> dict[str, int]:
    """How many pushes are pending, sent and failed (the sync state the page shows)."""
    rows = await session.execute(select(ConnectorPush.status, func.count()).where(
        ConnectorPush.connector_id == connector_id).group_by(ConnectorPush.status))
    return {"pending": 0, "sent": 0, "failed": 0} | {status: int(count) for status, count in rows}
