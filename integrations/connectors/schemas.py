"""Connectors as the API shows them (credentials are write-only)."""

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from integrations.bulk.schemas import SourceSystem
from integrations.connectors.secrets import masked
from tradeloom.schemas import ApiModel, StrictModel


class ConnectorIn(StrictModel):
    """A connector; ``name`` is also the source system of the external ids it records."""

    name: SourceSystem
    profile: Annotated[str, Field(examples=["sap_s4hana", "odoo", "kingdee_k3cloud", "yonyou_u8", "salesforce"])]
    base_url: Annotated[str, Field(max_length=500)]
    mapping_yaml: Annotated[str, Field(min_length=1, max_length=100_000)]
    schedule_minutes: Annotated[int | None, Field(ge=5, le=7 * 24 * 60)] = None
    is_active: bool = True
    credentials: dict[str, Annotated[str, Field(max_length=500)]] | None = Field(default=None, max_length=10)


class ConnectorOut(ApiModel):
    id: uuid.UUID
    name: str
    profile: str
    base_url: str
    mapping_yaml: str
    schedule_minutes: int | None
    is_active: bool
    next_sync_at: dt.datetime | None
    last_sync_at: dt.datetime | None
    last_status: str | None
    last_summary: dict[str, Any]
    consecutive_failures: int
    credentials: Annotated[dict[str, str], BeforeValidator(masked),
                           Field(description="the credential names; values are write-only, shown masked")]
    version: int


class ConnectionCheckOut(ApiModel):
    ok: bool
    message: str


class ConnectorErrorOut(ApiModel):
    id: uuid.UUID
    stage: str
    kind: str | None
    external_id: str | None
    code: str
    message: str
    status: str
    occurrences: int
    created_at: dt.datetime
    last_seen_at: dt.datetime


class ProfileOut(ApiModel):
    profile: str
    mapping_yaml: str
    alternatives: dict[str, str] = Field(default_factory=dict)  # e.g. sap_s4hana_crm: customers and contacts


class ConnectorPushOut(ApiModel):
    id: uuid.UUID
    kind: str
    object_id: uuid.UUID
    document_number: str
    topic: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime | None
    external_id: str | None
    last_error: str | None
    sent_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ConnectorPushesOut(ApiModel):
    counts: dict[str, int] = Field(description="pending, sent and failed pushes of the connector")
    pushes: list[ConnectorPushOut]
