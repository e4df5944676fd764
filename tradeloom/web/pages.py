"""Pages of the shell: sign in/out, language switch, the role dashboard, sites and the audit log."""

import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from tradeloom.audit import audit_trail
from tradeloom.auth import SESSION_COOKIE, Principal, resolve_principal
from tradeloom.errors import TooManyRequests, TradeloomError, Unauthorized
from tradeloom.identity import service as identity
from tradeloom.identity.credentials import secret_matches_plain
from tradeloom.identity.roles import OrgKind, Permission
from tradeloom.identity.throttle import LoginThrottle
from tradeloom.observability import client_ip_var
from tradeloom.sites import service as sites
from tradeloom.sites.schemas import SiteCreate
from tradeloom.transaction import TransactionalRoute, Tx
from tradeloom.web.forms import form_errors, form_fields
from tradeloom.web.i18n import LOCALE_COOKIE, LOCALES
from tradeloom.web.labels import N_
from tradeloom.web.navigation import NavItem, add_nav_item
from tradeloom.web.templating import render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
LOGIN_CSRF_COOKIE = "tl_login_csrf"


class SignInRequired(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


async def page_principal(request: Request, tx: Tx) -> Principal:
    """The signed-in member, or a redirect to the sign-in page that comes back here."""
    try:
        principal = await resolve_principal(request, tx)
    except Unauthorized:
        principal = None
    if principal is None:
        raise SignInRequired(request.url.path)
    return principal


Member = Annotated[Principal, Depends(page_principal)]


def _safe_next(next_path: str | None) -> str:
    return next_path if next_path and next_path.startswith("/") and not next_path.startswith("//") else "/"


@router.get("/login")
async def login_form(request: Request, next: str = "/") -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", {"next": _safe_next(next), "error": None}, csrf=token)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request))
    return response


@router.post("/login")
async def login(
    request: Request, tx: Tx, email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=256)], csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie_token or not secret_matches_plain(csrf_token, cookie_token):
        return render(request, "login.html", {"next": _safe_next(next), "error": "csrf"}, csrf=cookie_token,
                      status_code=403)
    session = await tx.session()
    try:
        user_id = await LoginThrottle(request.app.state.redis).authenticate(
            session, email=email, password=password, client_ip=client_ip_var.get()
        )
        await tx.set_context(org_id=None, user_id=user_id)
        organizations = await identity.organizations_of(session, user_id=user_id)
        if not organizations:
            raise Unauthorized("No organization", code="not_a_member")
    except Unauthorized:
        return render(request, "login.html", {"next": _safe_next(next), "error": "login"}, csrf=cookie_token,
                      status_code=401)
    except TooManyRequests:
        return render(request, "login.html", {"next": _safe_next(next), "error": "throttled"}, csrf=cookie_token,
                      status_code=429)
    token = await identity.start_web_session(
        session, user_id=user_id, org_id=organizations[0][0].id, hours=request.app.state.settings.web_session_hours
    )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request),
                        max_age=request.app.state.settings.web_session_hours * 3600)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    if (user := await identity.get_user(session, user_id)).locale in LOCALES and LOCALE_COOKIE not in request.cookies:
        response.set_cookie(LOCALE_COOKIE, user.locale, samesite="lax", max_age=365 * 86400)
    return response


@router.post("/logout")
async def logout(principal: Member, tx: Tx) -> Response:
    """CSRF-checked by the principal resolution (unsafe method with a session cookie)."""
    if principal.session_token:
        await identity.end_web_session(await tx.session(), principal.session_token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/lang/{locale}")
async def switch_language(locale: str, next: str = "/") -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    if locale in LOCALES:
        response.set_cookie(LOCALE_COOKIE, locale, samesite="lax", max_age=365 * 86400)
    return response


@router.get("/")
async def dashboard(request: Request, principal: Member, tx: Tx) -> Response:
    """Each kind of organization gets its own starting page."""
    session = await tx.session()
    organization = await identity.get_organization(session, principal.org_id)
    user = await identity.get_user(session, principal.user_id) if principal.user_id else None
    site_list, _ = await sites.list_sites(session, limit=500, cursor=None)
    recent = await audit_trail(session, limit=8) if principal.can(Permission.AUDIT_READ) else []
    return render(request, "dashboard.html", {
        "organization": organization, "user": user, "site_count": len(site_list), "recent": recent,
        "role_view": _role_view(principal),
    }, principal=principal)


def _role_view(principal: Principal) -> str:
    if principal.is_platform_admin or principal.org_kind == OrgKind.PLATFORM_OPERATOR:
        return "platform"
    if principal.org_kind in (OrgKind.SUPPLIER, OrgKind.LOGISTICS_PROVIDER):
        return "supplier"
    if principal.org_kind == OrgKind.FINANCIER:
        return "financier"
    return "buyer"


@router.get("/sites")
async def sites_page(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.SITES_READ)
    site_list, _ = await sites.list_sites(await tx.session(), limit=500, cursor=None)
    return render(request, "sites.html", {"sites": site_list, "errors": [], "form": {}}, principal=principal)


@router.post("/sites")
async def create_site_from_form(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.SITES_WRITE)
    form = await form_fields(request)
    session = await tx.session()
    try:
        fields = SiteCreate.model_validate({k: v for k, v in form.items() if v != ""})
        await sites.create_site(session, actor=principal.actor, fields=fields)
    except (ValidationError, TradeloomError) as exc:
        errors = form_errors(exc)
        site_list, _ = await sites.list_sites(await tx.session(), limit=500, cursor=None)
        return render(request, "sites.html", {"sites": site_list, "errors": errors, "form": form},
                      principal=principal, status_code=422)
    return RedirectResponse("/sites", status_code=303)


@router.get("/audit")
async def audit_page(request: Request, principal: Member, tx: Tx, before: int | None = None) -> Response:
    principal.require(Permission.AUDIT_READ)
    entries = await audit_trail(await tx.session(), before_id=before, limit=50)
    return render(request, "audit.html", {"entries": entries}, principal=principal)


def _secure(request: Request) -> bool:
    return bool(request.app.state.settings.is_production)


async def _redirect_to_sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return RedirectResponse(f"/login?next={quote(exc.next_path)}", status_code=303)


def install(app: FastAPI) -> None:
    """Register the shell's pages, navigation items and the sign-in redirect."""
    app.add_exception_handler(SignInRequired, _redirect_to_sign_in)
    app.include_router(router)
    for item in (
        NavItem("/", N_("Dashboard"), order=0),
        NavItem("/sites", N_("Sites"), Permission.SITES_READ, order=80),
        NavItem("/members", N_("Members"), Permission.MEMBERS_MANAGE, order=85),
        NavItem("/organizations", N_("Organizations"), Permission.PLATFORM_MANAGE, order=86),
        NavItem("/audit", N_("Audit log"), Permission.AUDIT_READ, order=90),
    ):
        add_nav_item(item)

