"""The change feed: ordered, per organization, resumable, and never skipping a late commit."""

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.factories import Member, make_member
from tradeloom.db import make_sessionmaker
from tradeloom.outbox.service import emit


async def committed_member(engine: AsyncEngine) -> Member:
    async with make_sessionmaker(engine)() as setup, setup.begin():
        return await make_member(setup)


async def emit_committed(engine: AsyncEngine, member: Member, topic: str, n: int) -> None:
    async with make_sessionmaker(engine)() as session, session.begin():
        await emit(session, org_id=member.org.id, topic=topic, payload={"n": n})


async def test_pages_through_an_organizations_events_in_order(committed_client: AsyncClient,
                                                              engine: AsyncEngine) -> None:
    # given events for two organizations
    mine, theirs = await committed_member(engine), await committed_member(engine)
    for n in range(5):
        await emit_committed(engine, mine, "order.submitted", n)
        await emit_committed(engine, theirs, "order.submitted", 100 + n)
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


async def test_a_transaction_that_commits_late_is_not_skipped(committed_client: AsyncClient,
                                                              engine: AsyncEngine) -> None:
    member = await committed_member(engine)
    sessions = make_sessionmaker(engine)
    # given an event whose transaction is still open while a later one commits
    async with sessions() as slow, slow.begin():
        await emit(slow, org_id=member.org.id, topic="order.submitted", payload={"n": "slow"})
        await emit_committed(engine, member, "order.submitted", "fast")
        # when a reader pulls now
        early = (await committed_client.get("/api/v1/changes", headers=member.headers)).json()
        # then it gets nothing yet: the fast event sits behind an unfinished transaction
        assert early["items"] == []
    # and once the slow one has committed, both arrive, the slow one first (its transaction began first)
    assert early["next_cursor"] is None  # nothing read yet: start from the beginning again
    late = (await committed_client.get("/api/v1/changes", headers=member.headers)).json()
    assert [item["payload"]["n"] for item in late["items"]] == ["slow", "fast"]


async def test_filter_by_topic_patterns(committed_client: AsyncClient, engine: AsyncEngine) -> None:
    member = await committed_member(engine)
    await emit_committed(engine, member, "order.submitted", 1)
    await emit_committed(engine, member, "invoice.issued", 2)
    await emit_committed(engine, member, "order_x.other", 3)
    page = (await committed_client.get("/api/v1/changes", params={"types": ["order.*"]}, headers=member.headers)).json()
    assert [item["topic"] for item in page["items"]] == ["order.submitted"]


async def test_a_tampered_cursor_is_422(committed_client: AsyncClient, engine: AsyncEngine) -> None:
    member = await committed_member(engine)
    response = await committed_client.get("/api/v1/changes", params={"cursor": "bm90LWEtY3Vyc29y"},
                                           headers=member.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "cursor_invalid"
