"""trace_view: events oldest first with their bundles, handover time, unknown identifiers."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.trace_view import MAX_IDENTIFIER_LENGTH, trace_view
from tests.ledger.trace_log import STARTED_AT, MemoryTraceSources, add_pump, trace_sources  # noqa: F401
from tradeloom.errors import NotFound

PUMP = "GS1/01/06901234567892/21/SN0001"


async def test_events_come_oldest_first_with_their_bundles(
    session: AsyncSession, trace_sources: MemoryTraceSources  # noqa: F811
) -> None:
    # given a pump whose events the source returns newest first, one of them not sealed yet
    add_pump(trace_sources, PUMP)
    events = list(reversed(trace_sources.events[PUMP]))
    events[0] = replace(events[0], evidence_entry_id=None)
    trace_sources.events[PUMP] = events
    # when the view is built
    view = await trace_view(session, PUMP)
    # then events are in time order, each with the bundle of its entry, the last one without
    assert [event.record.event_id for event in view.events] == ["ev1", "ev2", "ev3", "ev4", "ev5"]
    assert [event.bundle.leaf_index if event.bundle else None for event in view.events] == [0, 1, 2, 3, None]
    assert view.log_key == trace_sources.log.log_key
    assert view.handed_over_at == STARTED_AT + timedelta(days=4)
    assert view.event("ev3") is view.events[2]


async def test_an_item_not_yet_received_has_no_handover(
    session: AsyncSession, trace_sources: MemoryTraceSources  # noqa: F811
) -> None:
    add_pump(trace_sources, PUMP, received=False)
    assert (await trace_view(session, PUMP)).handed_over_at is None


@pytest.mark.parametrize("identifier", ["", "unknown", "x" * (MAX_IDENTIFIER_LENGTH + 1)])
async def test_unknown_identifiers_are_not_found(
    session: AsyncSession, trace_sources: MemoryTraceSources, identifier: str  # noqa: F811
) -> None:
    add_pump(trace_sources, PUMP)
    with pytest.raises(NotFound) as raised:
        await trace_view(session, identifier)
    assert raised.value.code == "trace_item_not_found"
