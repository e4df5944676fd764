"""EDI partner and interchange documents in and out of the API."""

import datetime as dt
import uuid
from typing import Literal

from pydantic import Field

from tradeloom.schemas import ApiModel, StrictModel

MessageType = Literal["ORDERS", "ORDRSP", "DESADV", "INVOIC"]


class PartnerIn(StrictModel):
    name: str = Field(min_length=1, max_length=120)
    partner_id: str = Field(min_length=1, max_length=35, description="UNB sender identification (0004)")
    partner_qualifier: str = Field(min_length=1, max_length=4, description="its code qualifier (0007): 14, ZZZ …")
    our_id: str = Field(min_length=1, max_length=35, description="the UNB recipient id we receive and send as")
    our_qualifier: str = Field(min_length=1, max_length=4)
    syntax_version: Literal["D96A", "D01B"] = "D96A"
    messages: list[MessageType] = Field(min_length=1, max_length=4)
    delivery_site_id: uuid.UUID | None = Field(default=None, description="used when an ORDERS has no NAD+DP")
    is_active: bool = True


class PartnerOut(ApiModel):
    id: uuid.UUID
    name: str
    partner_id: str
    partner_qualifier: str
    our_id: str
    our_qualifier: str
    syntax_version: str
    messages: list[str]
    delivery_site_id: uuid.UUID | None
    is_active: bool
    last_outbound_reference: int
    version: int
    created_at: dt.datetime


class InterchangeOut(ApiModel):
    id: uuid.UUID
    partner_id: uuid.UUID
    direction: str
    control_reference: str
    message_types: list[str]
    status: str
    detail: str | None
    source_order_id: uuid.UUID | None
    filename: str | None
    created_at: dt.datetime
    downloaded_at: dt.datetime | None


class MessageOutcomeOut(ApiModel):
    reference: str
    document_number: str = Field(description="the partner's order number (BGM)")
    accepted: bool
    order_id: uuid.UUID | None
    order_number: str | None
    reason: str | None
    code: str | None


class ReceivedOut(ApiModel):
    interchange: InterchangeOut
    messages: list[MessageOutcomeOut]


class Gs1PrefixIn(StrictModel):
    company_prefix: str = Field(min_length=6, max_length=12, examples=["6901234"],
                                description="the GS1 company prefix licensed to your organization")


class Gs1PrefixOut(ApiModel):
    company_prefix: str
    last_serial_reference: int
