"""What a shipment leaves in the ledger: a traceability identifier for every package, batch and serial (GS1
Digital Link when the material has a GTIN, a handle otherwise), the QR label sheet, and EPCIS events
(AggregationEvent for packing, ObjectEvents for shipping, arriving and receiving) — all through the ledger's
public services, in the caller's transaction."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.epcis.schemas import EPCIS_CONTEXT
from ledger.epcis.service import capture
from ledger.identifiers.digital_link import DigitalLink
from ledger.identifiers.models import Identifier
from ledger.identifiers.schemas import HandleValueIn, IdentifierCreate
from ledger.identifiers.service import label_sheet, register_identifier, traceability_url
from tradeloom.audit import Actor
from tradeloom.db import utcnow


@dataclass(frozen=True)
class Traceability:
    """The platform's handle prefix and public address (from settings), which identifiers are made under."""

    prefix: str
    base_url: str


async def register(session: AsyncSession, *, actor: Actor, where: Traceability, suffix: str, description: str,
                   gtin: str | None = None, lot: str | None = None, serial: str | None = None,
                   values: Sequence[tuple[str, str]] = ()) -> Identifier:
    """A published identifier for one shipped thing (its QR resolves publicly to the traceability page)."""
    fields = IdentifierCreate(
        suffix=suffix, description=description[:200], gtin=gtin, lot=lot if gtin else None,
        serial=serial if gtin else None, published=True,
        values=[HandleValueIn(index=index, type=kind, value=value)
                for index, (kind, value) in enumerate(values, start=2)])
    return await register_identifier(session, actor=actor, prefix=where.prefix, base_url=where.base_url,
                                     fields=fields)


def epc_of(identifier: Identifier, base_url: str) -> str:
    """The identifier as an EPC: its canonical Digital Link for a trade item, else its traceability URL."""
    if identifier.gtin:
        return DigitalLink(identifier.gtin, identifier.lot, identifier.serial).canonical_epc
    return traceability_url(base_url, identifier.handle)


def gs1_lot_and_serial(batch: str, serial: str) -> tuple[str | None, str | None]:
    """GS1 lots and serials are at most 20 characters; longer ones stay on the handle's values only."""
    return (batch if 0 < len(batch) <= 20 else None, serial if 0 < len(serial) <= 20 else None)


def item_epc(handle: str, gtin: str | None, batch: str, serial: str, *, base_url: str) -> str:
    """A shipped item's EPC from the shipment's own row (what ``epc_of`` gives for its identifier)."""
    if gtin:
        return DigitalLink(gtin, *gs1_lot_and_serial(batch, serial)).canonical_epc
    return traceability_url(base_url, handle)


def _when(at: dt.datetime) -> dict[str, str]:
    return {"eventTime": at.isoformat(), "eventTimeZoneOffset": "+00:00"}


def aggregation_event(parent: str, children: Sequence[str], *, at: dt.datetime) -> dict[str, Any]:
    """Packing: ``children`` (serials, batches or parcels) are put into ``parent`` (a parcel or a pallet)."""
    return {"type": "AggregationEvent", **_when(at), "action": "ADD", "bizStep": "packing", "parentID": parent,
            "childEPCs": list(children), "disposition": "in_progress"}


def object_event(epcs: Sequence[str], *, biz_step: str, disposition: str, at: dt.datetime,
                 order_number: str, shipment_number: str) -> dict[str, Any]:
    """Shipping, arriving or receiving of the shipment's top-level units, naming the order and the ASN."""
    return {"type": "ObjectEvent", **_when(at), "action": "OBSERVE", "bizStep": biz_step, "epcList": list(epcs),
            "disposition": disposition,
            "bizTransactionList": [{"type": "po", "bizTransaction": f"urn:tradeloom:po:{order_number}"},
                                   {"type": "desadv", "bizTransaction": f"urn:tradeloom:asn:{shipment_number}"}]}


async def capture_events(session: AsyncSession, *, actor: Actor, events: Sequence[dict[str, Any]]) -> None:
    """Record EPCIS events through the ledger's capture service (validation, storage, evidence per event)."""
    if not events:
        return
    document = {"@context": [EPCIS_CONTEXT], "type": "EPCISDocument", "schemaVersion": "2.0",
                "creationDate": utcnow().isoformat(), "epcisBody": {"eventList": list(events)}}
    await capture(session, actor=actor, body=orjson.dumps(document))


async def shipment_labels(session: AsyncSession, *, identifier_ids: Sequence[Any], base_url: str) -> bytes:
    """The QR label sheet (A4 PDF) of a shipment's identifiers, drawn by the ledger's label service."""
    return await label_sheet(session, identifier_ids=list(identifier_ids), base_url=base_url)
