"""The change feed: ordered, per organization, resumable, and never skipping a late commit."""

from collections.abc import Iterator

import pytest
from httpx import AsyncClient
from sqlalchemy import Engine, create_engine
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.factories import Member, make_member
from tradeloom.db import driver_url, make_sessionmaker
from tradeloom.outbox.feed import assign_feed_positions
from tradeloom.outbox.service import emit


@pytest.fixture
def sequencer(database_url: str) -> Iterator[Engine]:
    """The outbox sequencer's owner connection (the worker runs it in its dispatcher loop)."""
    engine = create_engine(driver_url(database_url))
    yield engine
    engine.dispose()


async def committed_member(engine: AsyncEngine) -> Member:
    async with make_sessionmaker(engine)() as setup, setup.begin():
        return await make_member(setup)


async def emit_committed(engine: AsyncEngine, member: Member, topic: str, n: int) -> None:
    async with make_sessionmaker(engine)() as session, session.begin():
        await emit(session, org_id=member.org.id, topic=topic, payload={"n": n})


async def test_pages_through_an_organizations_events_in_order(committed_client: AsyncClient, engine: AsyncEngine,
                                                              sequencer: Engine) -> None:
    # given events for two organizations
    mine, theirs = await committed_member(engine), await committed_member(engine)
    for n in range(5):
        await emit_committed(engine, mine, "order.submitted", n)
        await emit_committed(engine, theirs, "order.submitted", 100 + n)
    assign_feed_positions(sequencer)
    # when org A pulls in pages of two
    seen, cursor = [], None
    for _ in range(4):
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await committed_client.get("/api/v1/changes", params=params, headers=mine.headers)).json()
        seen += [item["payload"]["n"] for item in page["items"]]
        cursor = page["next_cursor"]
    # then it saw exactly its own events, in order, and the cursor rests at the end
    assert seen == [0, 1, 2, 3, 4]
    again = (await committed_client.get("/api/v1/changes", params={"cursor": cursor}, headers=mine.headers)).json()
    assert again == {"items": [], "next_cursor": cursor}


async def test_a_transaction_that_commits_late_is_not_skipped(committed_client: AsyncClient, engine: AsyncEngine,
                                                              sequencer: Engine) -> None:
    member = await committed_member(engine)
    # given an event whose transaction (with the lower id) is still open while a later one commits
    async with make_sessionmaker(engine)() as slow, slow.begin():
        await emit(slow, org_id=member.org.id, topic="order.submitted", payload={"n": "slow"})
        await emit_committed(engine, member, "order.submitted", "fast")
        assign_feed_positions(sequencer)
        # when a reader pulls now, it sees the committed one
        early = (await committed_client.get("/api/v1/changes", headers=member.headers)).json()
        assert [item["payload"]["n"] for item in early["items"]] == ["fast"]
    # then once the slow one commits it still arrives after the reader's cursor: nothing is skipped
    assign_feed_positions(sequencer)
    late = (await committed_client.get("/api/v1/changes", params={"cursor": early["next_cursor"]},
                                       headers=member.headers)).json()
    assert [item["payload"]["n"] for item in late["items"]] == ["slow"]


async def test_filter_by_topic_patterns(committed_client: AsyncClient, engine: AsyncEngine,
                                        sequencer: Engine) -> None:
    member = await committed_member(engine)
    await emit_committed(engine, member, "order.submitted", 1)
    await emit_committed(engine, member, "invoice.issued", 2)
    await emit_committed(engine, member, "order_x.other", 3)
    assign_feed_positions(sequencer)
    page = (await committed_client.get("/api/v1/changes", params={"types": ["order.*"]}, headers=member.headers)).json()
    assert [item["topic"] for item in page["items"]] == ["order.submitted"]


async def test_a_tampered_cursor_is_422(committed_client: AsyncClient, engine: AsyncEngine) -> None:
    member = await committed_member(engine)
    response = await committed_client.get("/api/v1/changes", params={"cursor": "bm90LWEtY3Vyc29y"},
                                           headers=member.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "cursor_invalid"
