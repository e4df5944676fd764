"""PunchOut credential documents in and out of the API."""

import datetime as dt
import uuid

from pydantic import Field

from tradeloom.schemas import ApiModel, StrictModel


class CredentialIn(StrictModel):
    name: str = Field(min_length=1, max_length=120)
    domain: str = Field(min_length=1, max_length=40, description="the From Credential domain, e.g. NetworkID")
    identity: str = Field(min_length=1, max_length=80, description="the From Credential Identity")
    supplier_org_id: uuid.UUID = Field(description="whose catalogue and contract prices the users shop")
    delivery_site_id: uuid.UUID = Field(description="where OrderRequests from this system are delivered")


class CredentialOut(ApiModel):
    id: uuid.UUID
    name: str
    domain: str
    identity: str
    supplier_org_id: uuid.UUID
    delivery_site_id: uuid.UUID
    is_active: bool
    last_used_at: dt.datetime | None
    version: int
    created_at: dt.datetime


class CredentialCreated(CredentialOut):
    shared_secret: str = Field(description="the SharedSecret the procurement system sends; shown once")


class CredentialSwitch(StrictModel):
    is_active: bool
