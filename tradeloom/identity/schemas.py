"""Identity documents in and out of the API."""

import datetime as dt
import uuid

from pydantic import EmailStr, Field, IPvAnyAddress

from tradeloom.identity.roles import OrgKind, Permission, Role
from tradeloom.schemas import ApiModel, StrictModel


class TokenRequest(StrictModel):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=256)
    org_id: uuid.UUID | None = Field(default=None, description="required when the user belongs to several orgs")


class TokenOut(ApiModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    org_id: uuid.UUID


class OrganizationCreate(StrictModel):
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    kind: OrgKind
    uscc: str = Field(min_length=18, max_length=18, description="统一社会信用代码 (GB 32100)")


class OrganizationUpdate(StrictModel):
    name_zh: str | None = Field(default=None, min_length=1, max_length=200)
    name_en: str | None = Field(default=None, min_length=1, max_length=200)


class OrganizationOut(ApiModel):
    id: uuid.UUID
    name_zh: str
    name_en: str
    kind: OrgKind
    uscc: str
    is_active: bool
    version: int


class MeOut(ApiModel):
    user_id: uuid.UUID | None
    api_key_id: uuid.UUID | None
    organization: OrganizationOut
    roles: list[Role]
    permissions: list[Permission]


class MemberCreate(StrictModel):
    email: EmailStr
    display_name: str = Field(min_length=1, max_length=120)
    password: str = Field(min_length=10, max_length=256)
    roles: list[Role] = Field(min_length=1)
    locale: str = Field(default="zh_CN", pattern=r"^(zh_CN|en)$")


class MemberOut(ApiModel):
    user_id: uuid.UUID
    email: str
    display_name: str
    roles: list[Role]


class ApiKeyCreate(StrictModel):
    name: str = Field(min_length=1, max_length=120)
    scopes: list[Permission] = Field(min_length=1)
    rate_limit_per_minute: int = Field(default=600, ge=1, le=100_000)


class ApiKeyOut(ApiModel):
    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[Permission]
    rate_limit_per_minute: int
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="shown once; store it now")


class AuditEntryOut(ApiModel):
    id: int
    at: dt.datetime
    actor_user_id: uuid.UUID | None
    actor_api_key_id: uuid.UUID | None
    action: str
    object_type: str
    object_id: str
    details: dict
    client_ip: IPvAnyAddress | None
    request_id: str | None
