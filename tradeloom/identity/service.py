"""Identity operations: organizations, users, memberships, API keys and browser sessions."""

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from tradeloom.concurrency import check_version
from tradeloom.db import flush_or_conflict, utcnow
from tradeloom.driver_statements import DriverStatement
from tradeloom.errors import Invalid, NotFound, Unauthorized
from tradeloom.identity import credentials
from tradeloom.identity.models import ApiKey, Membership, Organization, User, WebSession
from tradeloom.identity.roles import OrgKind, Permission, Role
from tradeloom.identity.uscc import uscc_problem


@dataclass(frozen=True)
class MemberContext:
    """What a user may do in one organization."""

    user_id: uuid.UUID
    org_id: uuid.UUID
    org_kind: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class ApiKeyContext:
    key_id: uuid.UUID
    org_id: uuid.UUID
    org_kind: str
    scopes: tuple[str, ...]
    rate_limit_per_minute: int


async def create_organization(
    session: AsyncSession, *, name_zh: str, name_en: str, kind: str, uscc: str
) -> Organization:
    """Register a company; the unified social credit code must pass its GB 32100 check."""
    uscc = uscc.strip().upper()
    if problem := uscc_problem(uscc):
        raise Invalid(f"Unified social credit code {problem}.", code="uscc_invalid",
                      errors=[{"pointer": "/uscc", "detail": problem}])
    if kind not in OrgKind._value2member_map_:
        raise Invalid(f"Unknown organization kind {kind!r}.", code="org_kind_invalid")
    organization = Organization(name_zh=name_zh, name_en=name_en, kind=kind, uscc=uscc)
    session.add(organization)
    await flush_or_conflict(session, f"An organization with code {uscc} is already registered.", "uscc_taken")
    return organization


async def create_user(
    session: AsyncSession, *, email: str, display_name: str, password: str, locale: str = "zh_CN"
) -> User:
    """A person who can sign in; e-mail addresses are unique case-insensitively."""
    if len(password) < 10:
        raise Invalid("Passwords need at least 10 characters.", code="password_too_short")
    user = User(email=email.strip().lower(), display_name=display_name,
                password_hash=credentials.hash_password(password), locale=locale)
    session.add(user)
    await flush_or_conflict(session, f"A user with e-mail {user.email} already exists.", "email_taken")
    return user


async def add_member(
    session: AsyncSession, *, org_id: uuid.UUID, user_id: uuid.UUID, roles: list[str]
) -> Membership:
    """Give a user roles in an organization."""
    unknown = [role for role in roles if role not in Role._value2member_map_]
    if unknown or not roles:
        raise Invalid(f"Unknown or missing roles: {', '.join(unknown) or '(none)'}.", code="role_invalid")
    membership = Membership(org_id=org_id, user_id=user_id, roles=sorted(set(roles)))
    session.add(membership)
    await flush_or_conflict(session, "The user is already a member of this organization.", "member_exists")
    return membership


async def authenticate(session: AsyncSession, *, email: str, password: str) -> uuid.UUID:
    """The user id for a correct e-mail and password; one vague 401 for every failure."""
    row = (
        await session.execute(text("SELECT id, password_hash, is_active FROM tl_login_lookup(:email)"),
                              {"email": email.strip().lower()})
    ).first()
    password_ok = credentials.verify_password(row.password_hash if row else None, password)
    if row is None or not password_ok or not row.is_active:
        raise Unauthorized("E-mail or password is wrong.", code="login_failed")
    return uuid.UUID(str(row.id))


async def organizations_of(session: AsyncSession, *, user_id: uuid.UUID) -> list[tuple[Organization, list[str]]]:
    """The organizations the (context) user belongs to, with the roles in each."""
    rows = await session.execute(
        select(Organization, Membership.roles)
        .join(Membership, Membership.org_id == Organization.id)
        .where(Membership.user_id == user_id, Organization.is_active)
        .order_by(Organization.name_en)
    )
    return [(org, roles) for org, roles in rows.all()]


_MEMBER_CONTEXT = DriverStatement(  # every signed-in request runs it
    select(Membership.roles, Organization.kind)
    .join(Organization, Organization.id == Membership.org_id)
    .join(User, User.id == Membership.user_id)
    .where(Membership.user_id == bindparam("user_id"), Membership.org_id == bindparam("org_id"),
           Organization.is_active, User.is_active)
)


async def member_context(session: AsyncSession, *, user_id: uuid.UUID, org_id: uuid.UUID) -> MemberContext:
    """The user's roles in the org, checked live: a removed member or blocked org is refused at once."""
    row = await _MEMBER_CONTEXT.first(session, {"user_id": user_id, "org_id": org_id})
    if row is None:
        raise Unauthorized("The user is not an active member of this organization.", code="not_a_member")
    roles, kind = row
    return MemberContext(user_id=user_id, org_id=org_id, org_kind=kind, roles=tuple(roles))


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    return user


async def get_organization(session: AsyncSession, org_id: uuid.UUID) -> Organization:
    organization = await session.get(Organization, org_id)
    if organization is None:
        raise NotFound("No such organization.", code="organization_not_found")
    return organization


async def create_api_key(
    session: AsyncSession, *, org_id: uuid.UUID, name: str, scopes: list[str], created_by: uuid.UUID | None,
    rate_limit_per_minute: int = 600,
) -> tuple[ApiKey, str]:
    """A new key for the org; the plaintext is returned once and never stored."""
    unknown = sorted(set(scopes) - set(Permission._value2member_map_))
    if unknown or not scopes:
        raise Invalid(f"Unknown or missing scopes: {', '.join(unknown) or '(none)'}.", code="scope_invalid")
    new_key = credentials.new_api_key()
    api_key = ApiKey(org_id=org_id, name=name, prefix=new_key.prefix, secret_hash=new_key.secret_hash,
                     scopes=sorted(set(scopes)), created_by=created_by, rate_limit_per_minute=rate_limit_per_minute)
    session.add(api_key)
    await session.flush()
    return api_key, new_key.plaintext


async def list_api_keys(session: AsyncSession) -> list[ApiKey]:
    return list((await session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc()))).all())


async def revoke_api_key(session: AsyncSession, *, key_id: uuid.UUID) -> ApiKey:
    """Stop a key from working; revoking twice is harmless."""
    api_key = await session.get(ApiKey, key_id)
    if api_key is None:
        raise NotFound("No such API key.", code="api_key_not_found")
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
    await session.flush()
    return api_key


async def resolve_api_key(session: AsyncSession, plaintext: str) -> ApiKeyContext:
    """The org and scopes of a valid, unrevoked key; 401 otherwise."""
    prefix, secret = credentials.split_api_key(plaintext)
    row = (
        await session.execute(
            text("SELECT id, org_id, org_kind, secret_hash, scopes, revoked_at, rate_limit_per_minute"
                 " FROM tl_api_key_lookup(:prefix)"),
            {"prefix": prefix},
        )
    ).first()
    if row is None or not credentials.secret_matches(secret, row.secret_hash):
        raise Unauthorized("The API key is not valid.", code="api_key_invalid")
    if row.revoked_at is not None:
        raise Unauthorized("The API key has been revoked.", code="api_key_revoked")
    return ApiKeyContext(key_id=row.id, org_id=row.org_id, org_kind=row.org_kind, scopes=tuple(row.scopes),
                         rate_limit_per_minute=row.rate_limit_per_minute)


async def touch_api_key(session: AsyncSession, *, key_id: uuid.UUID) -> None:
    """Record use, at most once a minute per key to keep hot paths free of row churn."""
    now = utcnow()
    await session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id,
               func.coalesce(ApiKey.last_used_at, dt.datetime.min.replace(tzinfo=dt.UTC))
               < now - dt.timedelta(minutes=1))
        .values(last_used_at=now)
    )


async def start_web_session(
    session: AsyncSession, *, user_id: uuid.UUID, org_id: uuid.UUID, hours: int
) -> str:
    """Sign a browser in; returns the cookie value (we keep only its hash)."""
    token, token_hash = credentials.new_session_token()
    session.add(WebSession(id_hash=token_hash, user_id=user_id, org_id=org_id,
                           expires_at=utcnow() + dt.timedelta(hours=hours)))
    await session.flush()
    return token


async def resolve_web_session(session: AsyncSession, token: str) -> WebSession | None:
    web_session = await session.get(WebSession, credentials.sha256_hex(token))
    if web_session is None or web_session.revoked_at is not None or web_session.expires_at <= utcnow():
        return None
    return web_session


async def end_web_session(session: AsyncSession, token: str) -> None:
    await session.execute(
        update(WebSession).where(WebSession.id_hash == credentials.sha256_hex(token)).values(revoked_at=utcnow())
    )



async def update_organization(
    session: AsyncSession, *, org_id: uuid.UUID, expected_version: int, name_zh: str | None, name_en: str | None
) -> Organization:
    """Rename the caller's organization (If-Match protected)."""
    organization = await get_organization(session, org_id)
    check_version(organization.version, expected_version)
    if name_zh is not None:
        organization.name_zh = name_zh
    if name_en is not None:
        organization.name_en = name_en
    await session.flush()
    return organization


async def list_members(session: AsyncSession) -> list[tuple[User, list[str]]]:
    """Members of the context organization with their roles."""
    rows = await session.execute(
        select(User, Membership.roles).join(Membership, Membership.user_id == User.id).order_by(User.email)
    )
    return [(user, roles) for user, roles in rows.all()]


async def invite_member(
    session: AsyncSession, *, org_id: uuid.UUID, email: str, display_name: str, password: str,
    roles: list[str], locale: str,
) -> User:
    """Add a person to the org: an existing account by e-mail, or a new one with the given password."""
    existing_id = await session.scalar(text("SELECT id FROM tl_login_lookup(:email)"), {"email": email.lower()})
    user = (
        await create_user(session, email=email, display_name=display_name, password=password, locale=locale)
        if existing_id is None
        else None
    )
    user_id = user.id if user else existing_id
    await add_member(session, org_id=org_id, user_id=user_id, roles=roles)
    return user or await get_user(session, user_id)


async def list_organizations(session: AsyncSession, *, kind: str | None = None) -> list[Organization]:
    """The platform directory of organizations, by English name."""
    query = select(Organization).order_by(Organization.name_en)
    if kind:
        query = query.where(Organization.kind == kind)
    return list((await session.scalars(query)).all())
