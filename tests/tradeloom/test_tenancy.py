"""Row-level security: a member of org A can neither read nor change org B's rows, by API or by query."""

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Member, make_member, site_body
from tradeloom.audit import AuditEntry
from tradeloom.db import apply_tenant
from tradeloom.identity.models import ApiKey, Membership, User
from tradeloom.sites.models import Site


@pytest.fixture
async def two_tenants(client: AsyncClient, session: AsyncSession) -> tuple[Member, Member, str]:
    """Org A and org B, each with one site; returns B's site id."""
    org_a = await make_member(session)
    org_b = await make_member(session)
    await client.post("/api/v1/sites", json=site_body("A-1"), headers=org_a.headers)
    created = await client.post("/api/v1/sites", json=site_body("B-1"), headers=org_b.headers)
    assert created.status_code == 201
    return org_a, org_b, created.json()["id"]


class TestThroughTheApi:
    async def test_listing_shows_only_your_own_rows(self, client: AsyncClient, two_tenants: tuple) -> None:
        org_a, _, _ = two_tenants
        listing = await client.get("/api/v1/sites", headers=org_a.headers)
        assert [site["code"] for site in listing.json()["items"]] == ["A-1"]

    async def test_another_orgs_row_is_not_found(self, client: AsyncClient, two_tenants: tuple) -> None:
        org_a, _, site_b = two_tenants
        response = await client.get(f"/api/v1/sites/{site_b}", headers=org_a.headers)
        assert response.status_code == 404

    async def test_another_orgs_row_cannot_be_changed(self, client: AsyncClient, session: AsyncSession,
                                                      two_tenants: tuple) -> None:
        org_a, _, site_b = two_tenants
        response = await client.patch(f"/api/v1/sites/{site_b}", json={"name_en": "Hijacked"},
                                      headers=org_a.headers | {"If-Match": '"1"'})
        assert response.status_code == 404
        await session.execute(text("RESET ROLE"))
        assert await session.scalar(select(Site.name_en).where(Site.code == "B-1")) == "Plant one"

    async def test_org_id_in_the_body_is_refused_not_honoured(self, client: AsyncClient, two_tenants: tuple) -> None:
        org_a, org_b, _ = two_tenants
        response = await client.post("/api/v1/sites", json=site_body("X-1", org_id=str(org_b.org.id)),
                                     headers=org_a.headers)
        assert response.status_code == 422
        assert response.json()["errors"][0]["pointer"] == "/org_id"

    async def test_members_and_audit_of_another_org_stay_hidden(self, client: AsyncClient, two_tenants: tuple) -> None:
        org_a, _, _ = two_tenants
        members = await client.get("/api/v1/members", headers=org_a.headers)
        assert [m["user_id"] for m in members.json()] == [str(org_a.user.id)]
        audit = await client.get("/api/v1/audit", headers=org_a.headers)
        assert {entry["details"]["code"] for entry in audit.json()} == {"A-1"}


class TestByDirectQueryInATenantTransaction:
    async def test_queries_see_only_the_current_tenant(self, session: AsyncSession, two_tenants: tuple) -> None:
        org_a, _, _ = two_tenants
        await apply_tenant(session, org_id=org_a.org.id, user_id=org_a.user.id)
        assert (await session.scalars(select(Site.code))).all() == ["A-1"]
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 1
        assert (await session.scalars(select(Membership.org_id))).all() == [org_a.org.id]
        assert (await session.scalars(select(User.id))).all() == [org_a.user.id]

    async def test_updates_of_other_tenants_rows_touch_nothing(self, session: AsyncSession, two_tenants: tuple) -> None:
        org_a, _, site_b = two_tenants
        await apply_tenant(session, org_id=org_a.org.id, user_id=org_a.user.id)
        result = await session.execute(update(Site).where(Site.id == site_b).values(name_en="Hijacked"))
        assert result.rowcount == 0  # type: ignore[attr-defined]

    async def test_inserting_a_row_for_another_tenant_is_refused(self, session: AsyncSession,
                                                                two_tenants: tuple) -> None:
        org_a, org_b, _ = two_tenants
        await apply_tenant(session, org_id=org_a.org.id, user_id=org_a.user.id)
        with pytest.raises(DBAPIError, match="row-level security"):
            async with session.begin_nested():
                session.add(Site(org_id=org_b.org.id, **site_body("SNEAK")))
                await session.flush()

    async def test_without_a_tenant_the_app_role_sees_nothing(self, session: AsyncSession,
                                                             two_tenants: tuple) -> None:
        await apply_tenant(session, org_id=None)
        assert await session.scalar(select(func.count()).select_from(Site)) == 0
        assert await session.scalar(select(func.count()).select_from(ApiKey)) == 0

    async def test_the_app_role_cannot_rewrite_the_audit_log(self, session: AsyncSession,
                                                            two_tenants: tuple) -> None:
        org_a, _, _ = two_tenants
        await apply_tenant(session, org_id=org_a.org.id)
        for statement in ("UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log",
                          "DELETE FROM outbox", "TRUNCATE audit_log"):
            with pytest.raises(DBAPIError, match="permission denied"):
                async with session.begin_nested():
                    await session.execute(text(statement))
