"""Idempotency-Key replays and optimistic concurrency (ETag / If-Match)."""

import asyncio

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.factories import Member, make_member, site_body
from tradeloom.db import make_sessionmaker
from tradeloom.outbox.models import OutboxEvent
from tradeloom.sites.models import Site


@pytest.fixture
async def admin(session: AsyncSession) -> Member:
    return await make_member(session)


class TestIdempotencyKey:
    async def test_a_replay_returns_the_first_response_and_changes_nothing(
        self, client: AsyncClient, admin: Member, session: AsyncSession
    ) -> None:
        headers = admin.headers | {"Idempotency-Key": "site-create-0001"}
        first = await client.post("/api/v1/sites", json=site_body("IDEM"), headers=headers)
        replay = await client.post("/api/v1/sites", json=site_body("IDEM"), headers=headers)
        assert first.status_code == replay.status_code == 201
        assert replay.json() == first.json()
        assert replay.headers["idempotent-replayed"] == "true"
        assert replay.headers["etag"] == first.headers["etag"] == '"1"'
        await session.execute(text("RESET ROLE"))
        assert await session.scalar(select(func.count()).select_from(Site)) == 1
        assert await session.scalar(select(func.count()).select_from(OutboxEvent)) == 1

    async def test_the_same_key_with_another_body_is_422(self, client: AsyncClient, admin: Member) -> None:
        headers = admin.headers | {"Idempotency-Key": "site-create-0002"}
        await client.post("/api/v1/sites", json=site_body("ONE"), headers=headers)
        reused = await client.post("/api/v1/sites", json=site_body("TWO"), headers=headers)
        assert reused.status_code == 422
        assert reused.json()["code"] == "idempotency_key_reused"

    async def test_keys_are_per_organization(self, client: AsyncClient, admin: Member, session: AsyncSession) -> None:
        other = await make_member(session)
        key = {"Idempotency-Key": "shared-key-0003"}
        mine = await client.post("/api/v1/sites", json=site_body("MINE"), headers=admin.headers | key)
        theirs = await client.post("/api/v1/sites", json=site_body("THEIRS"), headers=other.headers | key)
        assert mine.status_code == theirs.status_code == 201
        assert theirs.json()["code"] == "THEIRS"

    async def test_a_failed_request_does_not_burn_the_key(self, client: AsyncClient, admin: Member) -> None:
        headers = admin.headers | {"Idempotency-Key": "site-create-0004"}
        await client.post("/api/v1/sites", json=site_body("TAKEN"), headers=admin.headers)
        failed = await client.post("/api/v1/sites", json=site_body("TAKEN"), headers=headers)
        assert failed.status_code == 409
        again = await client.post("/api/v1/sites", json=site_body("TAKEN"), headers=headers)
        assert again.status_code == 409
        assert "idempotent-replayed" not in again.headers

    async def test_malformed_keys_are_422(self, client: AsyncClient, admin: Member) -> None:
        response = await client.post("/api/v1/sites", json=site_body(), headers=admin.headers
                                     | {"Idempotency-Key": "bad key with spaces"})
        assert response.status_code == 422

    async def test_concurrent_duplicates_execute_exactly_once(
        self, committed_client: AsyncClient, engine: AsyncEngine
    ) -> None:
        # given a member committed for real (concurrent requests need separate transactions)
        async with make_sessionmaker(engine)() as setup, setup.begin():
            admin = await make_member(setup)
        headers = admin.headers | {"Idempotency-Key": "concurrent-0005"}
        # when eight identical requests race
        responses = await asyncio.gather(*(
            committed_client.post("/api/v1/sites", json=site_body("RACE"), headers=headers) for _ in range(8)
        ))
        # then one executed and the others replayed its response
        assert [r.status_code for r in responses] == [201] * 8
        assert len({r.json()["id"] for r in responses}) == 1
        assert sum(1 for r in responses if "idempotent-replayed" not in r.headers) == 1
        async with engine.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(Site)) == 1
            assert await conn.scalar(select(func.count()).select_from(OutboxEvent)) == 1


class TestOptimisticConcurrency:
    async def test_read_gives_an_etag_and_a_write_with_it_succeeds(self, client: AsyncClient, admin: Member) -> None:
        created = await client.post("/api/v1/sites", json=site_body(), headers=admin.headers)
        site_url = f"/api/v1/sites/{created.json()['id']}"
        read = await client.get(site_url, headers=admin.headers)
        assert read.headers["etag"] == '"1"'
        updated = await client.patch(site_url, json={"name_en": "Plant 1"},
                                     headers=admin.headers | {"If-Match": read.headers["etag"]})
        assert updated.status_code == 200
        assert updated.headers["etag"] == '"2"'
        assert updated.json()["name_en"] == "Plant 1"

    async def test_a_stale_version_is_412_and_changes_nothing(self, client: AsyncClient, admin: Member) -> None:
        created = await client.post("/api/v1/sites", json=site_body(), headers=admin.headers)
        site_url = f"/api/v1/sites/{created.json()['id']}"
        await client.patch(site_url, json={"city": "无锡市"}, headers=admin.headers | {"If-Match": '"1"'})
        stale = await client.patch(site_url, json={"city": "常州市"}, headers=admin.headers | {"If-Match": '"1"'})
        assert stale.status_code == 412
        assert stale.json()["code"] == "version_conflict"
        assert stale.headers["etag"] == '"2"'
        assert (await client.get(site_url, headers=admin.headers)).json()["city"] == "无锡市"

    async def test_missing_or_malformed_if_match(self, client: AsyncClient, admin: Member) -> None:
        created = await client.post("/api/v1/sites", json=site_body(), headers=admin.headers)
        site_url = f"/api/v1/sites/{created.json()['id']}"
        missing = await client.patch(site_url, json={"city": "X"}, headers=admin.headers)
        malformed = await client.patch(site_url, json={"city": "X"}, headers=admin.headers | {"If-Match": "*"})
        assert (missing.status_code, missing.json()["code"]) == (428, "if_match_required")
        assert (malformed.status_code, malformed.json()["code"]) == (422, "if_match_malformed")

    async def test_two_concurrent_writers_with_the_same_version_one_wins(
        self, committed_client: AsyncClient, engine: AsyncEngine
    ) -> None:
        async with make_sessionmaker(engine)() as setup, setup.begin():
            admin = await make_member(setup)
        created = await committed_client.post("/api/v1/sites", json=site_body(), headers=admin.headers)
        site_url = f"/api/v1/sites/{created.json()['id']}"
        writers = [
            committed_client.patch(site_url, json={"name_en": f"Writer {n}"},
                                   headers=admin.headers | {"If-Match": '"1"'})
            for n in range(6)
        ]
        responses = await asyncio.gather(*writers)
        assert sorted(r.status_code for r in responses) == [200] + [412] * 5
        final = await committed_client.get(site_url, headers=admin.headers)
        winner = next(r for r in responses if r.status_code == 200)
        assert final.json()["name_en"] == winner.json()["name_en"]
        assert final.headers["etag"] == '"2"'
