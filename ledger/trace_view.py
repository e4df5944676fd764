"""What the public traceability page shows for one identifier, assembled from pluggable sources.

Two other parts of the ledger own the data: the identifier registry (Handle / GS1 Digital Link and the
EPCIS events of an item) and the evidence log (bundles proving each event's entry). They plug in here by
implementing :class:`TraceItemSource` and :class:`EvidenceBundleSource` and calling
:func:`install_trace_sources` at composition time; this module and the page depend on nothing else.
Until sources are installed every identifier is unknown (the page answers 404, never 500).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from ledger.bundle import EvidenceBundle
from tradeloom.errors import NotFound

MAX_IDENTIFIER_LENGTH = 500


class TraceEventKind(StrEnum):
    """The kinds of step a buyer sees on the page (EPCIS business steps map onto these)."""

    PRODUCTION = "production"
    QUALITY_CHECK = "quality_check"
    SHIPPING = "shipping"
    RECEIPT = "receipt"
    SALE = "sale"


HANDOVER_KINDS = frozenset({TraceEventKind.RECEIPT, TraceEventKind.SALE})
"""After one of these the item is in its final owner's hands (see the anti-counterfeit rules)."""


@dataclass(frozen=True)
class TracedItem:
    """A labelled item: which product, who made it, and which batch / serial the label names."""

    identifier: str
    product_name: str
    manufacturer_name: str
    batch: str | None = None
    serial: str | None = None
    product_code: str | None = None


@dataclass(frozen=True)
class TraceEventRecord:
    """One step in the item's history as the identifier registry knows it.

    ``evidence_entry_id`` names the evidence-log entry that records the step (None: not logged).
    ``title`` and ``place`` are data from the source (machine step names, site names), shown as given.
    """

    event_id: str
    kind: TraceEventKind
    occurred_at: datetime
    title: str
    place: str | None = None
    evidence_entry_id: int | None = None


class TraceItemSource(Protocol):
    """Implemented by the identifier registry (ledger-ids): identifiers, items and their events."""

    async def find_item(self, session: AsyncSession, identifier: str) -> TracedItem | None:
        """The item the identifier names (any accepted spelling), or None if unknown."""
        ...

    async def item_events(self, session: AsyncSession, item: TracedItem) -> Sequence[TraceEventRecord]:
        """The item's public events, oldest first."""
        ...


class EvidenceBundleSource(Protocol):
    """Implemented by the evidence log (ledger-log): bundles of sequenced entries and the log key."""

    async def bundles_for_entries(
        self, session: AsyncSession, entry_ids: Sequence[int]
    ) -> Mapping[int, EvidenceBundle]:
        """Bundles against the latest checkpoint, by entry id, in one batch; unsequenced entries are left out."""
        ...

    async def log_key(self, session: AsyncSession) -> str:
        """The log's verifier key (``<name>+<hex id>+<base64 key>``), which the page pins."""
        ...


@dataclass(frozen=True)
class TraceEvent:
    """An event with the bundle that proves it (None when the entry is not sequenced yet)."""

    record: TraceEventRecord
    bundle: EvidenceBundle | None


@dataclass(frozen=True)
class TraceView:
    """Everything the traceability page shows about one item."""

    item: TracedItem
    events: tuple[TraceEvent, ...]
    log_key: str

    @property
    def handed_over_at(self) -> datetime | None:
        """When the item was first received or sold (the end of its journey), if it was."""
        moments = [event.record.occurred_at for event in self.events if event.record.kind in HANDOVER_KINDS]
        return min(moments, default=None)

    def event(self, event_id: str) -> TraceEvent | None:
        """The event called ``event_id`` (from a download link), or None."""
        return next((event for event in self.events if event.record.event_id == event_id), None)


@dataclass(frozen=True)
class _Sources:
    items: TraceItemSource
    bundles: EvidenceBundleSource


_installed: list[_Sources] = []


def install_trace_sources(items: TraceItemSource, bundles: EvidenceBundleSource) -> None:
    """Plug in the data behind the page (at composition, or in tests); replaces earlier sources."""
    _installed[:] = [_Sources(items, bundles)]


def uninstall_trace_sources() -> None:
    """Back to no sources: every identifier is unknown."""
    _installed.clear()


def _not_found(identifier: str) -> NotFound:
    return NotFound(f"No traced item is known by {identifier[:80]!r}.", code="trace_item_not_found")


async def trace_view(session: AsyncSession, identifier: str) -> TraceView:
    """The item, its events (oldest first) and their bundles; NotFound for an unknown identifier."""
    if not _installed or not identifier or len(identifier) > MAX_IDENTIFIER_LENGTH:
        raise _not_found(identifier)
    sources = _installed[0]
    item = await sources.items.find_item(session, identifier)
    if item is None:
        raise _not_found(identifier)
    records = sorted(await sources.items.item_events(session, item), key=lambda record: record.occurred_at)
    entry_ids = [record.evidence_entry_id for record in records if record.evidence_entry_id is not None]
    bundles = await sources.bundles.bundles_for_entries(session, entry_ids) if entry_ids else {}
    events = tuple(
        TraceEvent(record, None if record.evidence_entry_id is None else bundles.get(record.evidence_entry_id))
        for record in records
    )
    return TraceView(item, events, await sources.bundles.log_key(session))
