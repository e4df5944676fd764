"""Bad input gets a clear 4xx problem+json, never a 500, and the database is unchanged."""

from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Member, make_member, site_body
from tradeloom.body_limit import path_pattern
from tradeloom.sites.models import Site


@pytest.fixture
async def admin(session: AsyncSession) -> Member:
    return await make_member(session)


async def site_count(session: AsyncSession) -> int:
    await session.execute(text("RESET ROLE"))
    return int(await session.scalar(select(func.count()).select_from(Site)) or 0)


def assert_problem(response, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"https://tradeloom.dev/problems/{code}"
    assert body["title"] and body["detail"]


class TestMalformedRequests:
    async def test_malformed_json(self, client: AsyncClient, admin: Member, session: AsyncSession) -> None:
        response = await client.post("/api/v1/sites", content=b'{"code": "A", ', headers=admin.headers
                                     | {"content-type": "application/json"})
        assert_problem(response, 400, "malformed_json")
        assert await site_count(session) == 0

    async def test_wrong_types_list_every_bad_field(self, client: AsyncClient, admin: Member,
                                                   session: AsyncSession) -> None:
        response = await client.post("/api/v1/sites", json=site_body(kind="castle", name_zh=42, city=None),
                                     headers=admin.headers)
        assert_problem(response, 422, "validation_failed")
        assert sorted(error["pointer"] for error in response.json()["errors"]) == ["/city", "/kind", "/name_zh"]
        assert await site_count(session) == 0

    async def test_text_with_a_nul_character_is_422(self, client: AsyncClient, admin: Member,
                                                    session: AsyncSession) -> None:
        response = await client.post("/api/v1/sites", json=site_body(address_line="星湖街\u0000 1 号"),
                                     headers=admin.headers)
        assert_problem(response, 422, "invalid_text")
        assert await site_count(session) == 0

    async def test_unknown_fields_are_refused(self, client: AsyncClient, admin: Member) -> None:
        response = await client.post("/api/v1/sites", json=site_body(colour="red"), headers=admin.headers)
        assert_problem(response, 422, "validation_failed")
        assert response.json()["errors"][0]["code"] == "extra_forbidden"

    async def test_a_body_that_is_not_an_object(self, client: AsyncClient, admin: Member) -> None:
        response = await client.post("/api/v1/sites", json=[1, 2, 3], headers=admin.headers)
        assert_problem(response, 422, "validation_failed")

    async def test_bad_path_parameter(self, client: AsyncClient, admin: Member) -> None:
        response = await client.get("/api/v1/sites/not-a-uuid", headers=admin.headers)
        assert_problem(response, 422, "validation_failed")
        assert response.json()["errors"][0]["location"] == "path"

    async def test_tampered_cursor(self, client: AsyncClient, admin: Member) -> None:
        response = await client.get("/api/v1/sites?cursor=%%%%", headers=admin.headers)
        assert_problem(response, 422, "cursor_invalid")

    async def test_unknown_route_and_wrong_method(self, client: AsyncClient) -> None:
        assert_problem(await client.get("/api/v1/nothing-here"), 404, "not_found")
        assert_problem(await client.put("/healthz"), 405, "method_not_allowed")


class TestOversizedBodies:
    async def test_declared_length_over_the_limit_is_413(self, client: AsyncClient, admin: Member,
                                                        session: AsyncSession) -> None:
        huge = site_body(address_line="x" * (3 * 1024 * 1024))
        response = await client.post("/api/v1/sites", json=huge, headers=admin.headers)
        assert_problem(response, 413, "payload_too_large")
        assert await site_count(session) == 0

    async def test_streamed_body_over_the_limit_is_413(self, client: AsyncClient, admin: Member,
                                                      session: AsyncSession) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"code": "A", "address_line": "'
            for _ in range(40):
                yield b"y" * 65536
            yield b'"}'

        response = await client.post("/api/v1/sites", content=chunks(), headers=admin.headers
                                     | {"content-type": "application/json"})
        assert_problem(response, 413, "payload_too_large")
        assert await site_count(session) == 0


    @pytest.mark.parametrize(("pattern", "path", "matches"), [
        ("/api/v1/catalog/materials/*/attachments", "/api/v1/catalog/materials/7f3a/attachments", True),
        ("/api/v1/catalog/materials/*/attachments", "/api/v1/catalog/materials/7f3a/b/attachments", False),
        ("/api/v1/catalog/materials/*/attachments", "/api/v1/catalog/materials/7f3a/attachments/x", False),
        ("/api/v1/bulk/**", "/api/v1/bulk/materials", True),
        ("/api/v1/bulk/**", "/api/v1/bulkier", False),
    ])
    def test_larger_limits_apply_to_their_paths_only(self, pattern: str, path: str, matches: bool) -> None:
        assert bool(path_pattern(pattern).fullmatch(path)) is matches


class TestDuplicates:
    async def test_duplicate_site_code_is_409_and_the_first_stays(self, client: AsyncClient, admin: Member,
                                                                 session: AsyncSession) -> None:
        first = await client.post("/api/v1/sites", json=site_body("DUP"), headers=admin.headers)
        second = await client.post("/api/v1/sites", json=site_body("DUP", name_en="Other"), headers=admin.headers)
        assert first.status_code == 201
        assert_problem(second, 409, "site_code_taken")
        assert await site_count(session) == 1
