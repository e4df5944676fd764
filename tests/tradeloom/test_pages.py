"""The web shell over HTTP: sign-in with CSRF, redirects, language switch, forms."""

import re

from httpx import AsyncClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import PASSWORD, make_member
from tradeloom.identity.roles import Role
from tradeloom.sites.models import Site


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the form"
    return match.group(1)


async def sign_in(client: AsyncClient, email: str) -> str:
    """Sign in through the form; returns the CSRF token of the signed-in pages."""
    login_page = await client.get("/login")
    response = await client.post("/login", data={"email": email, "password": PASSWORD,
                                                 "csrf_token": form_token(login_page.text), "next": "/"})
    assert response.status_code == 303, response.text
    return form_token((await client.get("/")).text)


class TestSignIn:
    async def test_pages_redirect_to_sign_in_and_come_back(self, client: AsyncClient) -> None:
        response = await client.get("/sites")
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=/sites"

    async def test_sign_in_shows_the_dashboard_in_chinese(self, client: AsyncClient, session: AsyncSession) -> None:
        await make_member(session, roles=(Role.BUYER,), email="buyer@example.test")
        await sign_in(client, "buyer@example.test")
        dashboard = await client.get("/", headers={"Accept-Language": "zh-CN"})
        assert dashboard.status_code == 200
        assert "<h1>欢迎，测试用户</h1>" in dashboard.text
        assert 'lang="zh-CN"' in dashboard.text

    async def test_the_language_switch_sticks(self, client: AsyncClient, session: AsyncSession) -> None:
        await make_member(session, email="en@example.test")
        await sign_in(client, "en@example.test")
        switched = await client.get("/lang/en?next=/sites")
        assert switched.headers["location"] == "/sites"
        assert "<h1>Sites</h1>" in (await client.get("/sites")).text

    async def test_a_login_post_without_the_form_token_is_refused(self, client: AsyncClient,
                                                                 session: AsyncSession) -> None:
        await make_member(session, email="x@example.test")
        response = await client.post("/login", data={"email": "x@example.test", "password": PASSWORD})
        assert response.status_code == 403
        assert "tl_session" not in response.cookies

    async def test_wrong_password_shows_the_form_again(self, client: AsyncClient, session: AsyncSession) -> None:
        await make_member(session, email="y@example.test")
        login_page = await client.get("/login", headers={"Accept-Language": "en"})
        response = await client.post("/login", data={"email": "y@example.test", "password": "wrong",
                                                     "csrf_token": form_token(login_page.text)},
                                     headers={"Accept-Language": "en"})
        assert response.status_code == 401
        assert "E-mail or password is wrong." in response.text

    async def test_sign_out_ends_the_session(self, client: AsyncClient, session: AsyncSession) -> None:
        await make_member(session, email="z@example.test")
        csrf = await sign_in(client, "z@example.test")
        cookie = client.cookies["tl_session"]
        response = await client.post("/logout", data={"csrf_token": csrf})
        assert response.status_code == 303
        client.cookies.set("tl_session", cookie)  # a stolen copy of the cookie no longer works
        assert (await client.get("/")).status_code == 303


class TestForms:
    async def test_a_form_post_without_csrf_token_is_403_and_stores_nothing(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await make_member(session, email="admin@example.test")
        await sign_in(client, "admin@example.test")
        response = await client.post("/sites", data={"code": "P1", "kind": "plant", "name_zh": "厂", "name_en": "P",
                                                     "province": "江苏省", "city": "苏州市", "address_line": "1 号"})
        assert response.status_code == 403
        assert response.json()["code"] == "csrf_failed"
        await session.execute(text("RESET ROLE"))
        assert await session.scalar(select(func.count()).select_from(Site)) == 0

    async def test_adding_a_site_through_the_form(self, client: AsyncClient, session: AsyncSession) -> None:
        await make_member(session, email="admin2@example.test")
        csrf = await sign_in(client, "admin2@example.test")
        response = await client.post("/sites", data={"csrf_token": csrf, "code": "P1", "kind": "plant",
                                                     "name_zh": "一号厂", "name_en": "Plant 1", "province": "江苏省",
                                                     "city": "苏州市", "address_line": "星湖街 1 号"})
        assert response.status_code == 303
        assert "一号厂" in (await client.get("/sites", headers={"Accept-Language": "zh-CN"})).text

    async def test_a_bad_form_is_shown_again_with_the_reason(self, client: AsyncClient, session: AsyncSession) -> None:
        await make_member(session, email="admin3@example.test")
        csrf = await sign_in(client, "admin3@example.test")
        response = await client.post("/sites", data={"csrf_token": csrf, "code": "bad code", "kind": "plant",
                                                     "name_zh": "厂", "name_en": "P", "province": "江苏省",
                                                     "city": "苏州市", "address_line": "1 号"})
        assert response.status_code == 422
        assert "code: String should match pattern" in response.text
