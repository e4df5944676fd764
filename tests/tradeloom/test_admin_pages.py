"""Platform operators register organizations; organization admins add members — through the pages."""

from httpx import AsyncClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import PASSWORD, make_member, random_uscc
from tests.tradeloom.test_pages import sign_in
from tradeloom.identity.models import Membership, Organization, User
from tradeloom.identity.roles import OrgKind, Role


async def test_a_platform_admin_registers_an_organization(client: AsyncClient, session: AsyncSession) -> None:
    # given a platform admin signed in
    await make_member(session, roles=(Role.PLATFORM_ADMIN,), kind=OrgKind.PLATFORM_OPERATOR, email="ops@example.test")
    csrf = await sign_in(client, "ops@example.test")
    uscc = random_uscc()
    # when the form is sent
    response = await client.post("/organizations", data={"csrf_token": csrf, "name_zh": "新供应商有限公司",
                                                         "name_en": "New Supplier Co., Ltd.", "kind": "supplier",
                                                         "uscc": uscc})
    # then the company is in the directory
    assert response.status_code == 303
    await session.execute(text("RESET ROLE"))
    registered = await session.scalar(select(Organization.name_en).where(Organization.uscc == uscc))
    assert registered == "New Supplier Co., Ltd."


async def test_a_wrong_check_character_is_shown_and_nothing_is_stored(client: AsyncClient,
                                                                     session: AsyncSession) -> None:
    await make_member(session, roles=(Role.PLATFORM_ADMIN,), kind=OrgKind.PLATFORM_OPERATOR, email="ops2@example.test")
    csrf = await sign_in(client, "ops2@example.test")
    uscc = random_uscc()
    bad = uscc[:17] + ("0" if uscc[17] != "0" else "1")
    response = await client.post("/organizations", data={"csrf_token": csrf, "name_zh": "某", "name_en": "X",
                                                         "kind": "buyer", "uscc": bad},
                                 headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert f"Unified social credit code check character should be {uscc[17]}." in response.text
    await session.execute(text("RESET ROLE"))
    assert await session.scalar(select(Organization.id).where(Organization.uscc == bad)) is None


async def test_only_platform_admins_open_the_directory(client: AsyncClient, session: AsyncSession) -> None:
    await make_member(session, roles=(Role.ORG_ADMIN,), email="admin@example.test")
    await sign_in(client, "admin@example.test")
    response = await client.get("/organizations")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


async def test_an_org_admin_adds_a_member_who_can_then_sign_in(client: AsyncClient, session: AsyncSession) -> None:
    admin = await make_member(session, roles=(Role.ORG_ADMIN,), email="boss@example.test")
    csrf = await sign_in(client, "boss@example.test")
    response = await client.post("/members", data={"csrf_token": csrf, "display_name": "周强",
                                                   "email": "zhou@ecm-works.cn", "password": PASSWORD,
                                                   "locale": "zh_CN", "roles": ["warehouse", "auditor"]})
    assert response.status_code == 303, response.text[-3000:]
    await session.execute(text("RESET ROLE"))
    roles = await session.scalar(select(Membership.roles).join(User, User.id == Membership.user_id)
                                 .where(User.email == "zhou@ecm-works.cn", Membership.org_id == admin.org.id))
    assert roles == ["auditor", "warehouse"]
    token = await client.post("/api/v1/auth/token", json={"email": "zhou@ecm-works.cn", "password": PASSWORD})
    assert token.status_code == 200
