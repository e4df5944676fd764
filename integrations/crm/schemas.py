"""CRM customers and contacts as the API shows them."""

import datetime as dt
import uuid

from tradeloom.schemas import ApiModel


class CustomerOut(ApiModel):
    id: uuid.UUID
    source_system: str
    external_id: str
    name: str
    tax_id: str | None
    email: str | None
    phone: str | None
    city: str | None
    country: str | None
    buyer_org_id: uuid.UUID | None  # the platform buyer organization this customer is
    matched_by: str | None  # tax_id or name
    synced_at: dt.datetime


class ContactOut(ApiModel):
    id: uuid.UUID
    source_system: str
    external_id: str
    customer_id: uuid.UUID | None
    name: str | None
    email: str | None
    phone: str | None
    role: str | None
    synced_at: dt.datetime
