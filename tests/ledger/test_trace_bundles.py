"""The evidence log as the trace page's bundle source: public bundles by entry id, in one batch."""

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.log_service import LogBundleSource
from ledger.signing import LogSigner
from ledger.trace_view import (
    TracedItem,
    TraceEventKind,
    TraceEventRecord,
    install_trace_sources,
    trace_view,
    uninstall_trace_sources,
)
from ledger.verify import verify_bundle
from tests.ledger.conftest import record_orders, sequence
from tradeloom.db import apply_tenant

PUMP = TracedItem(identifier="88.118.8866/pump-1", product_name="Centrifugal pump CP-80",
                  manufacturer_name="Ningbo pumps", batch="B1", serial="1", product_code="CP-80")


class OneItem:
    """An identifier registry that knows one pump, whose events name the given evidence entries."""

    def __init__(self, entry_ids: Sequence[int]) -> None:
        self.records = [TraceEventRecord(event_id=f"ev{n}", kind=TraceEventKind.PRODUCTION,
                                         occurred_at=datetime(2026, 11, 2, 8, n, tzinfo=UTC), title=f"step {n}",
                                         evidence_entry_id=entry_id) for n, entry_id in enumerate(entry_ids)]

    async def find_item(self, session: AsyncSession, identifier: str) -> TracedItem | None:
        return PUMP if identifier == PUMP.identifier else None

    async def item_events(self, session: AsyncSession, item: TracedItem) -> Sequence[TraceEventRecord]:
        return self.records


@pytest.fixture
def uninstall() -> Iterator[None]:
    yield
    uninstall_trace_sources()


async def test_bundles_of_sequenced_entries_verify_and_waiting_ones_are_left_out(
    session: AsyncSession, signer: LogSigner
) -> None:
    # given three sequenced entries of one organization and one still waiting
    sequenced = await record_orders(session, 3)
    await sequence(session, signer)
    [waiting] = await record_orders(session, 1, first=3)
    await apply_tenant(session, org_id=None)  # the public page: no organization
    # when
    ids = [receipt.entry_id for receipt in (*sequenced, waiting)] + [999_999]
    bundles = await LogBundleSource(signer.verifier_key).bundles_for_entries(session, ids)
    # then
    assert sorted(bundles) == sorted(receipt.entry_id for receipt in sequenced)
    for leaf_index, receipt in enumerate(sequenced):
        bundle = bundles[receipt.entry_id]
        assert (bundle.leaf_index, bundle.tree_size) == (leaf_index, 3)
        assert verify_bundle(bundle, pinned_key=str(signer.verifier_key)).ok


async def test_the_trace_view_shows_each_event_with_its_bundle(
    session: AsyncSession, signer: LogSigner, uninstall: None
) -> None:
    # given
    sequenced = await record_orders(session, 2)
    await sequence(session, signer)
    [waiting] = await record_orders(session, 1, first=2)
    install_trace_sources(OneItem([r.entry_id for r in (*sequenced, waiting)]), LogBundleSource(signer.verifier_key))
    # when
    view = await trace_view(session, PUMP.identifier)
    # then the sequenced events carry bundles, the waiting one none yet, and the page pins the log key
    assert [event.bundle is not None for event in view.events] == [True, True, False]
    assert view.log_key == str(signer.verifier_key)
