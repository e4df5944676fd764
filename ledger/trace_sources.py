"""The identifier registry and EPCIS events as the traceability page's item source.

An item is a published identifier (found by its handle); its events are the EPCIS events naming its GS1
key, reduced to public facts; each event's evidence entry is found in the public log by the event hash it
recorded. Nothing here reads tenant rows: only the narrow public functions and the ``ledger_leaves`` view.
"""

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.epcis.trace import EventLink, public_events
from ledger.identifiers.service import PublicIdentifier, published_by_handle
from ledger.trace_view import TracedItem, TraceEventKind, TraceEventRecord

PRODUCT_NAME_TYPES = ("PRODUCT_NAME", "NAME", "DESC")
MANUFACTURER_TYPES = ("MANUFACTURER", "BRAND_OWNER")
_KIND_OF_BIZ_STEP = {
    "inspecting": TraceEventKind.QUALITY_CHECK, "sampling": TraceEventKind.QUALITY_CHECK,
    "shipping": TraceEventKind.SHIPPING, "departing": TraceEventKind.SHIPPING, "loading": TraceEventKind.SHIPPING,
    "receiving": TraceEventKind.RECEIPT, "accepting": TraceEventKind.RECEIPT, "arriving": TraceEventKind.RECEIPT,
    "retail_selling": TraceEventKind.SALE,
}
_ENTRIES_BY_EVENT_HASH = text("""
    SELECT entry_id, convert_from(entry_data, 'UTF8')::jsonb #>> '{payload,eventHash}' AS event_hash
    FROM ledger_leaves
    WHERE kind LIKE 'epcis.%' AND convert_from(entry_data, 'UTF8')::jsonb #>> '{payload,eventHash}' = ANY(:hashes)
""")


def biz_step_kind(biz_step: str | None) -> TraceEventKind:
    """``shipping``, ``urn:epcglobal:cbv:bizstep:shipping`` and ``…/BizStep-shipping`` are one step."""
    word = (biz_step or "").rsplit(":", 1)[-1].rsplit("-", 1)[-1].lower()
    return _KIND_OF_BIZ_STEP.get(word, TraceEventKind.PRODUCTION)


def _value(identifier: PublicIdentifier, types: Sequence[str]) -> str | None:
    by_type = {str(value.get("type", "")).upper(): value for value in identifier.handle_values}
    for wanted in types:
        if wanted in by_type:
            return str(by_type[wanted].get("data", {}).get("value") or "") or None
    return None


class RegistryItemSource:
    """``ledger.trace_view.TraceItemSource`` over published identifiers and captured EPCIS events."""

    async def find_item(self, session: AsyncSession, identifier: str) -> TracedItem | None:
        published = await published_by_handle(session, handle=identifier)
        if published is None:
            return None
        events = await self._events(session, published)
        manufacturer = _value(published, MANUFACTURER_TYPES) or (events[0].org_name if events else "—")
        return TracedItem(
            identifier=published.handle, product_name=_value(published, PRODUCT_NAME_TYPES) or published.handle,
            manufacturer_name=manufacturer, batch=published.lot, serial=published.serial,
            product_code=published.gtin,
        )

    async def item_events(self, session: AsyncSession, item: TracedItem) -> Sequence[TraceEventRecord]:
        published = await published_by_handle(session, handle=item.identifier)
        events = await self._events(session, published) if published else []
        entries = await _entries_by_event_hash(session, [event.event_hash for event in events])
        return [
            TraceEventRecord(
                event_id=str(event.id), kind=biz_step_kind(event.biz_step), occurred_at=event.event_time,
                title=f"{(event.biz_step or event.event_type).rsplit(':', 1)[-1]} · {event.org_name}",
                evidence_entry_id=entries.get(event.event_hash),
            )
            for event in events
        ]

    @staticmethod
    async def _events(session: AsyncSession, published: PublicIdentifier) -> list[EventLink]:
        link = published.digital_link
        return await public_events(session, [link.canonical_epc]) if link else []


async def _entries_by_event_hash(session: AsyncSession, hashes: Sequence[str]) -> dict[str, int]:
    if not hashes:
        return {}
    rows = await session.execute(_ENTRIES_BY_EVENT_HASH, {"hashes": list(hashes)})
    return {row.event_hash: row.entry_id for row in rows}
