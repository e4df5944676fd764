"""Who is calling: bearer JWT, organization API key, or a browser session cookie (with CSRF on writes).

Resolving the caller also sets the transaction's tenant context, so every query after it is confined by
row-level security to the caller's organization.
"""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request
from redis.asyncio import Redis

from tradeloom.audit import Actor
from tradeloom.errors import Forbidden, Unauthorized
from tradeloom.identity import credentials, service
from tradeloom.identity.roles import Permission, Role, permissions_for
from tradeloom.rate_limit import enforce_key_limit
from tradeloom.transaction import Tx

SESSION_COOKIE = "tl_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FORM_FIELD = "csrf_token"
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Principal:
    org_id: uuid.UUID
    org_kind: str
    user_id: uuid.UUID | None
    api_key_id: uuid.UUID | None
    roles: tuple[str, ...]
    permissions: frozenset[Permission]
    via: Literal["token", "api_key", "session"]
    session_token: str | None = None

    @property
    def actor(self) -> Actor:
        return Actor(org_id=self.org_id, user_id=self.user_id, api_key_id=self.api_key_id)

    @property
    def is_platform_admin(self) -> bool:
        return Role.PLATFORM_ADMIN in self.roles

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        if permission not in self.permissions:
            what = "This API key lacks the scope" if self.via == "api_key" else "Your role lacks the permission"
            raise Forbidden(f"{what} {permission.value!r}.", code="permission_denied")


async def resolve_principal(request: Request, tx: Tx) -> Principal | None:
    """The caller from the request's credentials, or None when it carries none."""
    authorization = request.headers.get("authorization", "")
    scheme, _, credential = authorization.partition(" ")
    if authorization and scheme.lower() != "bearer":
        raise Unauthorized("Use 'Authorization: Bearer <token or API key>'.", code="auth_scheme_unsupported")
    credential = credential.strip() or request.headers.get("x-api-key", "").strip()
    secret = request.app.state.signing_secret
    if credential.startswith(credentials.API_KEY_PREFIX + "_"):
        return await _from_api_key(tx, credential, request.app.state.redis)
    if credential:
        return await _from_token(tx, credential, secret)
    if cookie := request.cookies.get(SESSION_COOKIE):
        principal = await _from_session(tx, cookie)
        if principal is not None and request.method in _UNSAFE_METHODS:
            await _check_csrf(request, cookie, secret)
        return principal
    return None


async def current_principal(request: Request, tx: Tx) -> Principal:
    principal = await resolve_principal(request, tx)
    if principal is None:
        raise Unauthorized("Sign in or send a bearer token or API key.", code="unauthenticated",
                           headers={"WWW-Authenticate": "Bearer"})
    return principal


async def _from_token(tx: Tx, token: str, secret: str) -> Principal:
    claims = credentials.read_access_token(token, secret=secret)
    return await _member_principal(tx, user_id=claims.user_id, org_id=claims.org_id, via="token")


async def _from_session(tx: Tx, cookie: str) -> Principal | None:
    web_session = await service.resolve_web_session(await tx.session(), cookie)
    if web_session is None:
        return None
    return await _member_principal(
        tx, user_id=web_session.user_id, org_id=web_session.org_id, via="session", session_token=cookie
    )


async def _member_principal(
    tx: Tx, *, user_id: uuid.UUID, org_id: uuid.UUID, via: Literal["token", "session"],
    session_token: str | None = None,
) -> Principal:
    await tx.set_context(org_id=org_id, user_id=user_id)
    member = await service.member_context(await tx.session(), user_id=user_id, org_id=org_id)
    is_platform_admin = Role.PLATFORM_ADMIN in member.roles
    if is_platform_admin:
        await tx.set_context(org_id=org_id, user_id=user_id, platform_admin=True)
    return Principal(
        org_id=org_id, org_kind=member.org_kind, user_id=user_id, api_key_id=None, roles=member.roles,
        permissions=permissions_for(member.roles), via=via, session_token=session_token,
    )


async def _from_api_key(tx: Tx, plaintext: str, redis: Redis) -> Principal:
    key = await service.resolve_api_key(await tx.session(), plaintext)
    await enforce_key_limit(redis, key_id=key.key_id, limit_per_minute=key.rate_limit_per_minute)
    await tx.set_context(org_id=key.org_id, user_id=None)
    await service.touch_api_key(await tx.session(), key_id=key.key_id)
    return Principal(
        org_id=key.org_id, org_kind=key.org_kind, user_id=None, api_key_id=key.key_id, roles=(),
        permissions=frozenset(Permission(scope) for scope in key.scopes if scope in Permission._value2member_map_),
        via="api_key",
    )


async def _check_csrf(request: Request, session_token: str, secret: str) -> None:
    expected = credentials.csrf_token_for(session_token, secret=secret)
    supplied = request.headers.get(CSRF_HEADER)
    if supplied is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        supplied = str((await request.form()).get(CSRF_FORM_FIELD) or "")
    if not supplied or not credentials.secret_matches_plain(supplied, expected):
        raise Forbidden("The form's CSRF token is missing or wrong; reload the page.", code="csrf_failed")


def requires(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    """A dependency that returns the caller after checking it holds ``permission``."""

    async def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        principal.require(permission)
        return principal

    return check


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(resolve_principal)]
