import datetime as dt

import jwt
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import PASSWORD, TEST_SECRET, make_member, make_org
from tradeloom.identity import service
from tradeloom.identity.models import ApiKey
from tradeloom.identity.roles import Role


class TestIssueToken:
    async def test_password_gives_a_token_for_the_users_organization(self, client: AsyncClient,
                                                                     session: AsyncSession) -> None:
        # given
        member = await make_member(session, roles=(Role.BUYER,), email="li.na@example.test")
        # when
        response = await client.post("/api/v1/auth/token", json={"email": "LI.NA@example.test", "password": PASSWORD})
        # then
        assert response.status_code == 200
        token = response.json()["access_token"]
        me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
        assert me.json()["organization"]["id"] == str(member.org.id)
        assert me.json()["roles"] == ["buyer"]
        assert "order.create" in me.json()["permissions"]

    async def test_wrong_password_and_unknown_email_get_the_same_401(self, client: AsyncClient,
                                                                     session: AsyncSession) -> None:
        await make_member(session, email="known@example.test")
        wrong = await client.post("/api/v1/auth/token", json={"email": "known@example.test", "password": "nope"})
        unknown = await client.post("/api/v1/auth/token", json={"email": "nobody@example.test", "password": "nope"})
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json()["code"] == unknown.json()["code"] == "login_failed"
        assert wrong.headers["content-type"] == "application/problem+json"

    async def test_a_user_of_several_organizations_must_choose(self, client: AsyncClient,
                                                              session: AsyncSession) -> None:
        member = await make_member(session, email="two@example.test")
        other = await make_org(session)
        await service.add_member(session, org_id=other.id, user_id=member.user.id, roles=["buyer"])
        response = await client.post("/api/v1/auth/token", json={"email": "two@example.test", "password": PASSWORD})
        assert response.status_code == 422
        assert response.json()["code"] == "org_required"
        chosen = await client.post("/api/v1/auth/token",
                                   json={"email": "two@example.test", "password": PASSWORD, "org_id": str(other.id)})
        assert chosen.status_code == 200
        assert chosen.json()["org_id"] == str(other.id)

    async def test_a_token_for_an_organization_the_user_is_not_in_is_refused(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await make_member(session, email="a@example.test")
        stranger_org = await make_org(session)
        body = {"email": "a@example.test", "password": PASSWORD, "org_id": str(stranger_org.id)}
        response = await client.post("/api/v1/auth/token", json=body)
        assert response.status_code == 401
        assert response.json()["code"] == "not_a_member"


class TestBearerTokens:
    async def test_expired_token_is_401_token_expired(self, client: AsyncClient, session: AsyncSession) -> None:
        member = await make_member(session)
        past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
        token = jwt.encode({"sub": str(member.user.id), "org": str(member.org.id), "aud": "tradeloom-api",
                            "iat": past, "exp": past + dt.timedelta(minutes=5)}, TEST_SECRET, algorithm="HS256")
        response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert response.json()["code"] == "token_expired"

    async def test_forged_token_is_401_token_invalid(self, client: AsyncClient, session: AsyncSession) -> None:
        member = await make_member(session)
        forged = jwt.encode({"sub": str(member.user.id), "org": str(member.org.id), "aud": "tradeloom-api",
                             "exp": dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)}, "not-our-secret-" * 3,
                            algorithm="HS256")
        response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})
        assert response.status_code == 401
        assert response.json()["code"] == "token_invalid"

    async def test_a_token_naming_another_org_is_refused(self, client: AsyncClient, session: AsyncSession) -> None:
        member = await make_member(session)
        other = await make_org(session)
        token = jwt.encode({"sub": str(member.user.id), "org": str(other.id), "aud": "tradeloom-api",
                            "exp": dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)}, TEST_SECRET, algorithm="HS256")
        response = await client.get("/api/v1/sites", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert response.json()["code"] == "not_a_member"

    async def test_no_credentials_and_unknown_schemes(self, client: AsyncClient) -> None:
        missing = await client.get("/api/v1/me")
        basic = await client.get("/api/v1/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
        assert missing.status_code == 401
        assert missing.json()["code"] == "unauthenticated"
        assert missing.headers["www-authenticate"] == "Bearer"
        assert basic.status_code == 401
        assert basic.json()["code"] == "auth_scheme_unsupported"

    async def test_a_role_without_the_permission_gets_403(self, client: AsyncClient, session: AsyncSession) -> None:
        auditor = await make_member(session, roles=(Role.AUDITOR,))
        response = await client.post("/api/v1/sites", json={}, headers=auditor.headers)
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"


class TestApiKeys:
    async def test_create_use_scope_and_revoke(self, client: AsyncClient, session: AsyncSession) -> None:
        # given an org admin who creates a read-only key
        admin = await make_member(session, roles=(Role.ORG_ADMIN,))
        created = await client.post("/api/v1/api-keys", json={"name": "ERP", "scopes": ["sites.read"]},
                                    headers=admin.headers)
        assert created.status_code == 201
        key = created.json()["key"]
        key_headers = {"Authorization": f"Bearer {key}"}
        # then the secret is stored only as a hash
        stored = await session.scalar(select(ApiKey).where(ApiKey.id == created.json()["id"]))
        assert stored is not None and key.split("_", 2)[2] not in stored.secret_hash
        # and the key reads but cannot write
        assert (await client.get("/api/v1/sites", headers=key_headers)).status_code == 200
        denied = await client.post("/api/v1/sites", json={}, headers={"X-API-Key": key})
        assert denied.status_code == 403
        assert "scope 'sites.write'" in denied.json()["detail"]
        # and it stops working once revoked
        revoked = await client.delete(f"/api/v1/api-keys/{created.json()['id']}", headers=admin.headers)
        assert revoked.status_code == 200
        after = await client.get("/api/v1/sites", headers=key_headers)
        assert after.status_code == 401
        assert after.json()["code"] == "api_key_revoked"

    async def test_listing_never_shows_secrets(self, client: AsyncClient, session: AsyncSession) -> None:
        admin = await make_member(session)
        await client.post("/api/v1/api-keys", json={"name": "ERP", "scopes": ["sites.read"]}, headers=admin.headers)
        listing = await client.get("/api/v1/api-keys", headers=admin.headers)
        assert listing.status_code == 200
        assert [sorted(item) for item in listing.json()] == [
            ["created_at", "id", "last_used_at", "name", "prefix", "rate_limit_per_minute", "revoked_at", "scopes"]
        ]

    async def test_malformed_and_guessed_keys_are_401(self, client: AsyncClient, session: AsyncSession) -> None:
        admin = await make_member(session)
        created = await client.post("/api/v1/api-keys", json={"name": "ERP", "scopes": ["sites.read"]},
                                    headers=admin.headers)
        prefix = created.json()["prefix"]
        guessed = await client.get("/api/v1/sites", headers={"X-API-Key": f"tlk_{prefix}_guess"})
        malformed = await client.get("/api/v1/sites", headers={"X-API-Key": "tlk_"})
        assert guessed.status_code == malformed.status_code == 401
        assert guessed.json()["code"] == malformed.json()["code"] == "api_key_invalid"

    async def test_unknown_scope_is_422_and_nothing_is_stored(self, client: AsyncClient, session: AsyncSession) -> None:
        admin = await make_member(session)
        response = await client.post("/api/v1/api-keys", json={"name": "x", "scopes": ["everything"]},
                                     headers=admin.headers)
        assert response.status_code == 422
        assert await session.scalar(select(func.count()).select_from(ApiKey)) == 0


class TestApiKeyRateLimit:
    async def test_a_key_over_its_limit_gets_429_until_the_next_minute(self, client: AsyncClient,
                                                                       session: AsyncSession) -> None:
        admin = await make_member(session)
        created = await client.post("/api/v1/api-keys", headers=admin.headers,
                                    json={"name": "ERP", "scopes": ["sites.read"], "rate_limit_per_minute": 3})
        key = {"X-API-Key": created.json()["key"]}
        statuses = [(await client.get("/api/v1/sites", headers=key)).status_code for _ in range(4)]
        assert statuses[:3] == [200, 200, 200]
        limited = await client.get("/api/v1/sites", headers=key)
        assert limited.status_code == 429
        assert limited.json()["code"] == "rate_limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
