"""Identifiers over HTTP: registration per organization, public Handle resolution, tenant isolation."""

import pytest
from httpx import AsyncClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.identifiers.models import Identifier
from ledger.models import EvidenceRecord
from tests.factories import Member, make_member
from tradeloom.db import apply_tenant
from tradeloom.identity.roles import Role

BASE = "http://127.0.0.1:8000"
PREFIX = "88.118.8866"


def identifier_body(suffix: str = "BATCH-0001", **overrides: object) -> dict[str, object]:
    return {"suffix": suffix, "description": "冷轧钢卷 批次 1", "gtin": "09506000134376", "lot": "L2026-11",
            "values": [{"index": 2, "type": "EMAIL", "value": "qa@example.test"}], "published": True} | overrides


@pytest.fixture
async def supplier(session: AsyncSession) -> Member:
    return await make_member(session, roles=(Role.SUPPLIER_SALES,))


@pytest.fixture
async def other_org(session: AsyncSession) -> Member:
    return await make_member(session, roles=(Role.ORG_ADMIN,))


class TestRegister:
    async def test_registers_the_handle_with_its_traceability_url_and_digital_link(
        self, client: AsyncClient, supplier: Member, session: AsyncSession
    ) -> None:
        # when
        response = await client.post("/api/v1/identifiers", json=identifier_body(), headers=supplier.headers)
        # then
        assert response.status_code == 201
        body = response.json()
        assert (body["handle"], body["gtin"], body["lot"], body["serial"], body["published"], body["version"]) == (
            f"{PREFIX}/BATCH-0001", "09506000134376", "L2026-11", None, True, 1)
        assert body["digital_link"] == f"{BASE}/01/09506000134376/10/L2026-11"
        assert body["values"] == [
            {"index": 1, "type": "URL", "data": {"format": "string", "value": f"{BASE}/t/{PREFIX}/BATCH-0001"}},
            {"index": 2, "type": "EMAIL", "data": {"format": "string", "value": "qa@example.test"}},
        ]
        assert response.headers["location"] == f"/api/v1/identifiers/{body['id']}"
        assert response.headers["etag"] == '"1"'
        await session.execute(text("RESET ROLE"))
        registered = select(EvidenceRecord).where(EvidenceRecord.kind == "identifier.registered")
        evidence = (await session.scalars(registered)).one()
        assert (evidence.org_id, evidence.subject) == (supplier.org.id, f"handle:{PREFIX}/BATCH-0001")

    async def test_a_gtin_with_a_wrong_check_digit_is_422_naming_the_field(
        self, client: AsyncClient, supplier: Member
    ) -> None:
        response = await client.post("/api/v1/identifiers", json=identifier_body(gtin="09506000134377"),
                                     headers=supplier.headers)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "gtin_invalid"
        assert response.json()["errors"] == [
            {"pointer": "/gtin", "detail": "Invalid GTIN check digit for '09506000134377': Expected 6, got 7."}]

    async def test_a_lot_without_a_gtin_is_refused(self, client: AsyncClient, supplier: Member) -> None:
        response = await client.post("/api/v1/identifiers", json=identifier_body(gtin=None), headers=supplier.headers)
        assert (response.status_code, response.json()["code"]) == (422, "gtin_required")

    async def test_index_1_is_reserved_for_the_traceability_url(self, client: AsyncClient, supplier: Member) -> None:
        body = identifier_body(values=[{"index": 1, "type": "URL", "value": "https://evil.example/"}])
        response = await client.post("/api/v1/identifiers", json=body, headers=supplier.headers)
        assert response.status_code == 422
        assert response.json()["errors"][0]["pointer"] == "/values/0/index"

    async def test_a_buyer_without_the_permission_is_403(self, client: AsyncClient, session: AsyncSession) -> None:
        buyer = await make_member(session, roles=(Role.BUYER,))
        response = await client.post("/api/v1/identifiers", json=identifier_body(), headers=buyer.headers)
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")

    async def test_an_idempotency_key_replays_the_first_registration(
        self, client: AsyncClient, supplier: Member
    ) -> None:
        headers = supplier.headers | {"Idempotency-Key": "register-batch-0001"}
        first = await client.post("/api/v1/identifiers", json=identifier_body(), headers=headers)
        replay = await client.post("/api/v1/identifiers", json=identifier_body(), headers=headers)
        assert (first.status_code, replay.status_code) == (201, 201)
        assert replay.json() == first.json()
        assert replay.headers["idempotent-replayed"] == "true"


class TestTenancy:
    async def test_another_org_cannot_register_a_handle_that_is_taken(
        self, client: AsyncClient, supplier: Member, other_org: Member
    ) -> None:
        await client.post("/api/v1/identifiers", json=identifier_body(), headers=supplier.headers)
        # when another organization claims the same handle
        response = await client.post("/api/v1/identifiers", json=identifier_body(), headers=other_org.headers)
        # then
        assert (response.status_code, response.json()["code"]) == (409, "handle_taken")

    async def test_another_org_can_neither_read_nor_change_an_identifier(
        self, client: AsyncClient, supplier: Member, other_org: Member
    ) -> None:
        created = (await client.post("/api/v1/identifiers", json=identifier_body(published=False),
                                     headers=supplier.headers)).json()
        path = f"/api/v1/identifiers/{created['id']}"
        read = await client.get(path, headers=other_org.headers)
        changed = await client.patch(path, json={"published": True}, headers=other_org.headers | {"If-Match": '"1"'})
        listed = await client.get("/api/v1/identifiers", headers=other_org.headers)
        assert (read.status_code, changed.status_code) == (404, 404)
        assert listed.json() == {"items": [], "next_cursor": None}

    async def test_the_database_refuses_a_row_for_another_organization(
        self, session: AsyncSession, supplier: Member, other_org: Member
    ) -> None:
        await apply_tenant(session, org_id=other_org.org.id)
        session.add(Identifier(org_id=supplier.org.id, handle=f"{PREFIX}/FORGED", suffix="FORGED", handle_values=[]))
        with pytest.raises(DBAPIError, match="row-level security"):
            await session.flush()

    async def test_the_owner_publishes_with_if_match(self, client: AsyncClient, supplier: Member) -> None:
        created = (await client.post("/api/v1/identifiers", json=identifier_body(published=False),
                                     headers=supplier.headers)).json()
        path = f"/api/v1/identifiers/{created['id']}"
        stale = await client.patch(path, json={"published": True}, headers=supplier.headers | {"If-Match": '"7"'})
        published = await client.patch(path, json={"published": True}, headers=supplier.headers | {"If-Match": '"1"'})
        assert stale.status_code == 412
        assert (published.status_code, published.json()["published"], published.headers["etag"]) == (200, True, '"2"')


class TestHandleResolution:
    async def test_a_published_handle_resolves_to_its_values(self, client: AsyncClient, supplier: Member) -> None:
        await client.post("/api/v1/identifiers", json=identifier_body(), headers=supplier.headers)
        response = await client.get(f"/api/handles/{PREFIX}/BATCH-0001")
        assert response.status_code == 200
        assert response.json() == {"responseCode": 1, "handle": f"{PREFIX}/BATCH-0001", "values": [
            {"index": 1, "type": "URL", "data": {"format": "string", "value": f"{BASE}/t/{PREFIX}/BATCH-0001"}},
            {"index": 2, "type": "EMAIL", "data": {"format": "string", "value": "qa@example.test"}},
        ]}

    async def test_type_and_index_filters_select_values(self, client: AsyncClient, supplier: Member) -> None:
        await client.post("/api/v1/identifiers", json=identifier_body(), headers=supplier.headers)
        by_type = await client.get(f"/api/handles/{PREFIX}/BATCH-0001", params={"type": "URL"})
        by_index = await client.get(f"/api/handles/{PREFIX}/BATCH-0001", params=[("index", "2"), ("index", "9")])
        either = await client.get(f"/api/handles/{PREFIX}/BATCH-0001", params=[("type", "EMAIL"), ("index", "1")])
        assert [v["index"] for v in by_type.json()["values"]] == [1]
        assert [v["index"] for v in by_index.json()["values"]] == [2]
        assert [v["index"] for v in either.json()["values"]] == [1, 2]

    async def test_no_matching_values_is_response_code_200(self, client: AsyncClient, supplier: Member) -> None:
        await client.post("/api/v1/identifiers", json=identifier_body(), headers=supplier.headers)
        response = await client.get(f"/api/handles/{PREFIX}/BATCH-0001", params={"type": "HS_ADMIN"})
        assert response.status_code == 200
        assert response.json() == {"responseCode": 200, "handle": f"{PREFIX}/BATCH-0001", "values": [],
                                   "message": "Values not found"}

    @pytest.mark.parametrize("handle", [f"{PREFIX}/NOPE", "99.999/BATCH-0001", f"{PREFIX}/DRAFT"])
    async def test_unknown_or_unpublished_handles_are_response_code_100(
        self, client: AsyncClient, supplier: Member, handle: str
    ) -> None:
        await client.post("/api/v1/identifiers", json=identifier_body("DRAFT", published=False),
                          headers=supplier.headers)
        response = await client.get(f"/api/handles/{handle}")
        assert response.status_code == 404
        assert response.json() == {"responseCode": 100, "handle": handle, "message": "Handle not found"}
