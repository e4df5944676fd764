"""Identifier operations: register and change (the caller's organization, under RLS) and public resolution.

Public resolution never reads tenant rows directly: it calls SECURITY DEFINER functions that return only
published identifiers and only their handle, handle values and GS1 key (migration 0004).
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.identifiers.digital_link import DigitalLink, normalise_gtin
from ledger.identifiers.labels import Label, labels_pdf
from ledger.identifiers.models import Identifier
from ledger.identifiers.schemas import HandleValueIn, IdentifierCreate, IdentifierUpdate
from ledger.service import record_evidence
from tradeloom.audit import Actor, record_audit
from tradeloom.concurrency import check_version
from tradeloom.db import flush_or_conflict
from tradeloom.errors import Invalid, NotFound
from tradeloom.outbox.service import emit
from tradeloom.pagination import decode_cursor, encode_cursor

TRACEABILITY_INDEX = 1


@dataclass(frozen=True)
class PublicIdentifier:
    """What anyone may learn about a published identifier."""

    id: uuid.UUID
    handle: str
    handle_values: list[dict[str, Any]]
    gtin: str | None
    lot: str | None
    serial: str | None

    @property
    def digital_link(self) -> DigitalLink | None:
        return DigitalLink(self.gtin, self.lot, self.serial) if self.gtin else None


def traceability_url(base_url: str, handle: str) -> str:
    """The public traceability page of an identifier (the default link of its QR code)."""
    return f"{base_url.rstrip('/')}/t/{quote(handle, safe='/')}"


def qr_content(base_url: str, identifier: PublicIdentifier | Identifier) -> str:
    """What the QR code carries: the GS1 Digital Link for trade items, else the traceability page."""
    if identifier.gtin:
        return DigitalLink(identifier.gtin, identifier.lot, identifier.serial).uri(base_url)
    return traceability_url(base_url, identifier.handle)


def _handle_values(base_url: str, handle: str, values: Sequence[HandleValueIn]) -> list[dict[str, Any]]:
    indexes = [value.index for value in values]
    if len(set(indexes)) != len(indexes):
        raise Invalid("Each handle value needs its own index.", code="handle_value_index_duplicate",
                      errors=[{"pointer": "/values", "detail": "duplicate index"}])
    record = [{"index": TRACEABILITY_INDEX, "type": "URL",
               "data": {"format": "string", "value": traceability_url(base_url, handle)}}]
    record += [{"index": v.index, "type": v.type, "data": {"format": "string", "value": v.value}} for v in values]
    return sorted(record, key=lambda value: value["index"])


async def register_identifier(
    session: AsyncSession, *, actor: Actor, prefix: str, base_url: str, fields: IdentifierCreate
) -> Identifier:
    """Register ``<prefix>/<suffix>`` for the actor's organization; a handle taken by anyone is a 409."""
    gtin = normalise_gtin(fields.gtin) if fields.gtin else None
    if (fields.lot or fields.serial) and gtin is None:
        raise Invalid("A lot or serial number needs the GTIN it belongs to.", code="gtin_required",
                      errors=[{"pointer": "/gtin", "detail": "required with lot or serial"}])
    handle = f"{prefix}/{fields.suffix}"
    identifier = Identifier(
        org_id=actor.org_id, handle=handle, suffix=fields.suffix, description=fields.description, gtin=gtin,
        lot=fields.lot, serial=fields.serial, published=fields.published,
        handle_values=_handle_values(base_url, handle, fields.values),
    )
    session.add(identifier)
    await flush_or_conflict(session, f"Handle {handle} is already registered.", "handle_taken")
    facts = {"handle": handle, "gtin": gtin, "lot": fields.lot, "serial": fields.serial}
    await record_evidence(session, org_id=actor.org_id, kind="identifier.registered", subject=f"handle:{handle}",
                          payload=facts)
    await _record(session, actor, "identifier.registered", identifier)
    return identifier


async def get_identifier(session: AsyncSession, *, identifier_id: uuid.UUID) -> Identifier:
    """One of the caller's identifiers (another organization's is simply not found)."""
    identifier = await session.get(Identifier, identifier_id)
    if identifier is None:
        raise NotFound("No such identifier.", code="identifier_not_found")
    return identifier


async def list_identifiers(
    session: AsyncSession, *, limit: int, cursor: str | None
) -> tuple[list[Identifier], str | None]:
    """The caller's identifiers ordered by handle, one keyset page at a time."""
    query = select(Identifier).order_by(Identifier.handle).limit(limit + 1)
    if cursor:
        (after,) = decode_cursor(cursor, arity=1)
        query = query.where(Identifier.handle > str(after))
    identifiers = list((await session.scalars(query)).all())
    next_cursor = encode_cursor(identifiers[limit - 1].handle) if len(identifiers) > limit else None
    return identifiers[:limit], next_cursor


async def update_identifier(
    session: AsyncSession, *, actor: Actor, base_url: str, identifier_id: uuid.UUID, expected_version: int,
    changes: IdentifierUpdate,
) -> Identifier:
    """Change description, values or publication, if nobody changed the identifier since it was read."""
    identifier = await get_identifier(session, identifier_id=identifier_id)
    check_version(identifier.version, expected_version)
    sent = changes.model_fields_set
    if "description" in sent:
        identifier.description = changes.description
    if "published" in sent and changes.published is not None:
        identifier.published = changes.published
    if "values" in sent and changes.values is not None:
        identifier.handle_values = _handle_values(base_url, identifier.handle, changes.values)
    await session.flush()
    await _record(session, actor, "identifier.updated", identifier)
    return identifier


async def identifiers_for_labels(session: AsyncSession, *, identifier_ids: Sequence[uuid.UUID]) -> list[Identifier]:
    """The caller's identifiers in the order asked; any id not theirs is a 404 naming it."""
    found = {i.id: i for i in await session.scalars(select(Identifier).where(Identifier.id.in_(identifier_ids)))}
    missing = [str(i) for i in identifier_ids if i not in found]
    if missing:
        raise NotFound(f"No such identifier: {', '.join(missing)}.", code="identifier_not_found")
    return [found[i] for i in identifier_ids]


async def label_sheet(session: AsyncSession, *, identifier_ids: Sequence[uuid.UUID], base_url: str) -> bytes:
    """An A4 PDF of QR labels for the caller's identifiers (for shipping documents and goods marking)."""
    identifiers = await identifiers_for_labels(session, identifier_ids=identifier_ids)
    return labels_pdf([
        Label(qr_content=qr_content(base_url, i), title=i.description or i.suffix, handle=i.handle,
              lines=[line for line in (f"GTIN {i.gtin}" if i.gtin else "", f"LOT {i.lot}" if i.lot else "",
                                       f"SN {i.serial}" if i.serial else "") if line])
        for i in identifiers
    ])


_BY_HANDLE = text("SELECT id, handle, handle_values, gtin, lot, serial FROM tl_public_identifier(NULL, :handle)")
_BY_ID = text("SELECT id, handle, handle_values, gtin, lot, serial FROM tl_public_identifier(:id, NULL)")
_BY_GS1_KEY = text(
    "SELECT id, handle, handle_values, gtin, lot, serial FROM tl_digital_link_identifier(:gtin, :lot, :serial)"
)


async def published_by_handle(session: AsyncSession, *, handle: str) -> PublicIdentifier | None:
    """A published identifier by its handle, read through the narrow public function."""
    row = (await session.execute(_BY_HANDLE,
                                 {"handle": handle})).first()
    return PublicIdentifier(**row._mapping) if row else None


async def published_by_id(session: AsyncSession, *, identifier_id: uuid.UUID) -> PublicIdentifier | None:
    row = (await session.execute(_BY_ID,
                                 {"id": identifier_id})).first()
    return PublicIdentifier(**row._mapping) if row else None


async def published_by_digital_link(session: AsyncSession, *, link: DigitalLink) -> PublicIdentifier | None:
    """The most specific published identifier for a GTIN (+ lot, + serial)."""
    row = (await session.execute(
        _BY_GS1_KEY,
        {"gtin": link.gtin, "lot": link.lot, "serial": link.serial},
    )).first()
    return PublicIdentifier(**row._mapping) if row else None


async def printable_identifier(
    session: AsyncSession, *, identifier_id: uuid.UUID, signed_in: bool
) -> PublicIdentifier:
    """An identifier to print: the caller's own (published or not), or anyone's published one."""
    if signed_in and (own := await session.get(Identifier, identifier_id)) is not None:
        return PublicIdentifier(own.id, own.handle, own.handle_values, own.gtin, own.lot, own.serial)
    published = await published_by_id(session, identifier_id=identifier_id)
    if published is None:
        raise NotFound("No such published identifier.", code="identifier_not_found")
    return published


def select_values(
    values: Iterable[dict[str, Any]], *, types: Sequence[str], indexes: Sequence[int]
) -> list[dict[str, Any]]:
    """Handle semantics: with filters, the values matching any index or any type ("X." takes subtypes)."""
    if not types and not indexes:
        return list(values)

    def matches(value: dict[str, Any]) -> bool:
        kind = str(value["type"])
        typed = any(kind == t or (t.endswith(".") and kind.startswith(t)) for t in types)
        return typed or value["index"] in indexes

    return [value for value in values if matches(value)]


async def _record(session: AsyncSession, actor: Actor, topic: str, identifier: Identifier) -> None:
    payload = {"identifier_id": str(identifier.id), "handle": identifier.handle, "version": identifier.version,
               "published": identifier.published}
    await emit(session, org_id=identifier.org_id, topic=topic, payload=payload)
    await record_audit(session, actor=actor, action=topic, object_type="identifier", object_id=identifier.id,
                       details=payload)
