"""A small evidence log in memory, built with the ledger core, and trace sources that serve its bundles.

The page and the browser verifier are tested against real bundles: leaves hashed, proved and signed by
ledger.merkle and ledger.checkpoint exactly as the sequencer will, only held in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.bundle import EvidenceBundle
from ledger.canonical import EvidenceEntry
from ledger.checkpoint import NoteSigner, make_signer, sign_checkpoint
from ledger.merkle import InMemoryNodeStore, inclusion_proof, leaf_hash
from ledger.trace_view import (
    TracedItem,
    TraceEventKind,
    TraceEventRecord,
    install_trace_sources,
    uninstall_trace_sources,
)

ORIGIN = "tradeloom.test/evidence-log"
LOG_SIGNER = make_signer(ORIGIN, Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
OTHER_SIGNER = make_signer(ORIGIN, Ed25519PrivateKey.from_private_bytes(bytes(range(100, 132))))
STARTED_AT = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


@dataclass
class MemoryLog:
    """Leaves appended in order; bundles prove them against a checkpoint of the whole tree."""

    signer: NoteSigner = LOG_SIGNER
    store: InMemoryNodeStore = field(default_factory=InMemoryNodeStore)
    leaves: list[bytes] = field(default_factory=list)

    @property
    def log_key(self) -> str:
        return str(self.signer.verifier_key)

    def append(self, entry: EvidenceEntry) -> int:
        """Append an entry; returns its leaf index."""
        self.leaves.append(entry.canonical_bytes())
        self.store.append([leaf_hash(self.leaves[-1])])
        return len(self.leaves) - 1

    def checkpoint(self, signer: NoteSigner | None = None) -> str:
        head = self.store.tree_head
        return sign_checkpoint(signer or self.signer, origin=ORIGIN, tree_size=head.tree_size,
                               root_hash=head.root_hash)

    def bundle(self, leaf_index: int) -> EvidenceBundle:
        size = self.store.tree_head.tree_size
        return EvidenceBundle.assemble(
            entry_data=self.leaves[leaf_index], leaf_index=leaf_index, tree_size=size,
            inclusion_proof=inclusion_proof(self.store, leaf_index, size), checkpoint=self.checkpoint(),
            log_key=self.log_key,
        )


@dataclass
class MemoryTraceSources:
    """Both trace sources at once (items with events, and bundles by entry id), over a MemoryLog."""

    log: MemoryLog = field(default_factory=MemoryLog)
    items: dict[str, TracedItem] = field(default_factory=dict)
    events: dict[str, list[TraceEventRecord]] = field(default_factory=dict)
    replaced_bundles: dict[int, EvidenceBundle] = field(default_factory=dict)

    async def find_item(self, session: AsyncSession, identifier: str) -> TracedItem | None:
        return self.items.get(identifier)

    async def item_events(self, session: AsyncSession, item: TracedItem) -> Sequence[TraceEventRecord]:
        return self.events[item.identifier]

    async def bundles_for_entries(
        self, session: AsyncSession, entry_ids: Sequence[int]
    ) -> Mapping[int, EvidenceBundle]:
        return {entry_id: self.replaced_bundles.get(entry_id) or self.log.bundle(entry_id) for entry_id in entry_ids}

    async def log_key(self, session: AsyncSession) -> str:
        return self.log.log_key


PUMP_STEPS = (
    (TraceEventKind.PRODUCTION, "CNC machining of the impeller (machine VMC-07)", "Ningbo plant, hall 2"),
    (TraceEventKind.PRODUCTION, "Assembly and balancing", "Ningbo plant, hall 3"),
    (TraceEventKind.QUALITY_CHECK, "Hydrostatic pressure test 16 bar: passed", "Ningbo plant, QA lab"),
    (TraceEventKind.SHIPPING, "Shipped, delivery note DN-2026-0419", "Ningbo plant"),
    (TraceEventKind.RECEIPT, "Goods receipt GR-77 signed", "Suzhou plant, warehouse A"),
)


def add_pump(sources: MemoryTraceSources, identifier: str, *, received: bool = True) -> TracedItem:
    """A centrifugal pump with its production steps, quality check, shipment and (optionally) receipt."""
    item = TracedItem(identifier=identifier, product_name="离心泵 CP-80 / Centrifugal pump CP-80",
                      manufacturer_name="浙江精工泵业有限公司", batch="B2026-11-02", serial=identifier[-8:],
                      product_code="CP-80-316L")
    steps = PUMP_STEPS if received else PUMP_STEPS[:-1]
    records = []
    for number, (kind, title, place) in enumerate(steps):
        occurred_at = STARTED_AT + timedelta(days=number)
        entry = EvidenceEntry(kind=f"trace.{kind.value}", subject=f"item:{identifier}", org="org-maker",
                              recorded_at=occurred_at, payload={"step": number, "title": title})
        leaf_index = sources.log.append(entry)
        records.append(TraceEventRecord(event_id=f"ev{number + 1}", kind=kind, occurred_at=occurred_at,
                                        title=title, place=place, evidence_entry_id=leaf_index))
    sources.items[identifier] = item
    sources.events[identifier] = records
    return item


@pytest.fixture
def trace_sources() -> Iterator[MemoryTraceSources]:
    """In-memory sources installed behind ``trace_view`` for one test (the live server sees them too)."""
    sources = MemoryTraceSources()
    install_trace_sources(sources, sources)
    yield sources
    uninstall_trace_sources()
