"""``/api/v1/auth``, ``/me``, ``/organizations``, ``/members``, ``/api-keys``, ``/audit``."""

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request, Response

from tradeloom.audit import audit_trail, record_audit
from tradeloom.auth import CurrentPrincipal, Principal, requires
from tradeloom.concurrency import ExpectedVersion, set_etag
from tradeloom.errors import Invalid
from tradeloom.idempotency import Idempotent
from tradeloom.identity import credentials, service
from tradeloom.identity.roles import Permission
from tradeloom.identity.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    AuditEntryOut,
    MemberCreate,
    MemberOut,
    MeOut,
    OrganizationCreate,
    OrganizationOut,
    OrganizationUpdate,
    TokenOut,
    TokenRequest,
)
from tradeloom.identity.throttle import LoginThrottle
from tradeloom.observability import client_ip_var
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute, Tx

router = PrefixedRouter(prefix="/api/v1", route_class=TransactionalRoute)
OrgAdmin = Annotated[Principal, Depends(requires(Permission.ORG_MANAGE))]
MemberAdmin = Annotated[Principal, Depends(requires(Permission.MEMBERS_MANAGE))]
KeyAdmin = Annotated[Principal, Depends(requires(Permission.API_KEYS_MANAGE))]
PlatformAdmin = Annotated[Principal, Depends(requires(Permission.PLATFORM_MANAGE))]
Auditor = Annotated[Principal, Depends(requires(Permission.AUDIT_READ))]


@router.post("/auth/token", tags=["auth"])
async def issue_token(body: TokenRequest, tx: Tx, request: Request) -> TokenOut:
    """Exchange e-mail and password for a bearer JWT acting for one of the user's organizations."""
    session = await tx.session()
    user_id = await LoginThrottle(request.app.state.redis).authenticate(
        session, email=body.email, password=body.password, client_ip=client_ip_var.get()
    )
    await tx.set_context(org_id=None, user_id=user_id)
    org_id = body.org_id or await _only_organization(session, user_id)
    await tx.set_context(org_id=org_id, user_id=user_id)
    await service.member_context(session, user_id=user_id, org_id=org_id)
    settings = request.app.state.settings
    token = credentials.issue_access_token(
        secret=request.app.state.signing_secret, user_id=user_id, org_id=org_id,
        minutes=settings.access_token_minutes,
    )
    return TokenOut(access_token=token, expires_in=settings.access_token_minutes * 60, org_id=org_id)


async def _only_organization(session: DbSession, user_id: uuid.UUID) -> uuid.UUID:
    organizations = await service.organizations_of(session, user_id=user_id)
    if len(organizations) != 1:
        choices = [{"org_id": str(org.id), "name_en": org.name_en} for org, _ in organizations]
        raise Invalid("Choose the organization to act for: send org_id.", code="org_required", errors=choices)
    return organizations[0][0].id


@router.get("/me", tags=["auth"])
async def me(principal: CurrentPrincipal, session: DbSession) -> MeOut:
    """Who the credentials belong to, for which organization, with which roles and permissions."""
    organization = await service.get_organization(session, principal.org_id)
    return MeOut(
        user_id=principal.user_id, api_key_id=principal.api_key_id,
        organization=OrganizationOut.model_validate(organization),
        roles=list(principal.roles), permissions=sorted(principal.permissions),
    )


@router.post("/organizations", status_code=201, tags=["organizations"])
async def create_organization(
    body: OrganizationCreate, principal: PlatformAdmin, session: DbSession, _key: Idempotent
) -> OrganizationOut:
    """Register a company on the platform (platform operators only)."""
    organization = await service.create_organization(session, **body.model_dump())
    await record_audit(session, actor=principal.actor, action="organization.created",
                       object_type="organization", object_id=organization.id, details=body.model_dump(mode="json"))
    return OrganizationOut.model_validate(organization)


@router.get("/organizations/{org_id}", tags=["organizations"])
async def get_organization(org_id: uuid.UUID, principal: CurrentPrincipal, session: DbSession,
                           response: Response) -> OrganizationOut:
    """A company in the platform directory."""
    organization = await service.get_organization(session, org_id)
    set_etag(response, organization.version)
    return OrganizationOut.model_validate(organization)


@router.patch("/organizations/current", tags=["organizations"])
async def update_my_organization(
    body: OrganizationUpdate, principal: OrgAdmin, session: DbSession, response: Response,
    expected_version: ExpectedVersion,
) -> OrganizationOut:
    """Rename your organization (If-Match required)."""
    organization = await service.update_organization(
        session, org_id=principal.org_id, expected_version=expected_version, **body.model_dump()
    )
    await record_audit(session, actor=principal.actor, action="organization.updated", object_type="organization",
                       object_id=organization.id, details=body.model_dump(exclude_unset=True))
    set_etag(response, organization.version)
    return OrganizationOut.model_validate(organization)


@router.get("/members", tags=["organizations"])
async def list_members(principal: MemberAdmin, session: DbSession) -> list[MemberOut]:
    """People in your organization and their roles."""
    return [
        MemberOut(user_id=user.id, email=user.email, display_name=user.display_name, roles=roles)
        for user, roles in await service.list_members(session)
    ]


@router.post("/members", status_code=201, tags=["organizations"])
async def add_member(body: MemberCreate, principal: MemberAdmin, session: DbSession, _key: Idempotent) -> MemberOut:
    """Add a person to your organization with roles (creates the account when the e-mail is new)."""
    user = await service.invite_member(session, org_id=principal.org_id, **body.model_dump(mode="json"))
    await record_audit(session, actor=principal.actor, action="member.added", object_type="user",
                       object_id=user.id, details={"roles": body.model_dump(mode="json")["roles"]})
    return MemberOut(user_id=user.id, email=user.email, display_name=user.display_name, roles=body.roles)


@router.get("/api-keys", tags=["api keys"])
async def list_api_keys(principal: KeyAdmin, session: DbSession) -> list[ApiKeyOut]:
    """Your organization's API keys (secrets are never shown again)."""
    return [ApiKeyOut.model_validate(key) for key in await service.list_api_keys(session)]


@router.post("/api-keys", status_code=201, tags=["api keys"])
async def create_api_key(
    body: ApiKeyCreate, principal: KeyAdmin, session: DbSession, _key: Idempotent
) -> ApiKeyCreated:
    """Create a key with scopes; the response is the only time its secret is shown."""
    api_key, plaintext = await service.create_api_key(
        session, org_id=principal.org_id, name=body.name, scopes=[s.value for s in body.scopes],
        created_by=principal.user_id, rate_limit_per_minute=body.rate_limit_per_minute,
    )
    await record_audit(session, actor=principal.actor, action="api_key.created", object_type="api_key",
                       object_id=api_key.id, details={"name": body.name, "scopes": api_key.scopes})
    return ApiKeyCreated(**ApiKeyOut.model_validate(api_key).model_dump(), key=plaintext)


@router.delete("/api-keys/{key_id}", tags=["api keys"])
async def revoke_api_key(key_id: uuid.UUID, principal: KeyAdmin, session: DbSession) -> ApiKeyOut:
    """Revoke a key at once."""
    api_key = await service.revoke_api_key(session, key_id=key_id)
    await record_audit(session, actor=principal.actor, action="api_key.revoked", object_type="api_key",
                       object_id=api_key.id)
    return ApiKeyOut.model_validate(api_key)


@router.get("/audit", tags=["audit"])
async def list_audit(
    principal: Auditor, session: DbSession,
    object_type: Annotated[str | None, Query(max_length=64)] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    before_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[AuditEntryOut]:
    """Your organization's audit trail, newest first."""
    entries = await audit_trail(session, object_type=object_type, object_id=object_id, before_id=before_id,
                                limit=limit)
    return [AuditEntryOut.model_validate(entry) for entry in entries]
