"""Webhook documents in and out of the API."""

import datetime as dt
import uuid

from pydantic import Field

from tradeloom.schemas import ApiModel, StrictModel

TopicPattern = str


class SubscriptionCreate(StrictModel):
    url: str = Field(min_length=8, max_length=2000)
    event_types: list[TopicPattern] = Field(min_length=1, max_length=50,
                                            description='topic patterns, e.g. ["order.*", "invoice.issued"]')
    description: str | None = Field(default=None, max_length=200)


class SubscriptionUpdate(StrictModel):
    url: str | None = Field(default=None, min_length=8, max_length=2000)
    event_types: list[TopicPattern] | None = Field(default=None, min_length=1, max_length=50)
    is_active: bool | None = None


class SubscriptionOut(ApiModel):
    id: uuid.UUID
    url: str
    event_types: list[str]
    description: str | None
    is_active: bool
    consecutive_failures: int
    failing_since: dt.datetime | None
    disabled_reason: str | None
    version: int
    created_at: dt.datetime


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="the HMAC signing secret; shown once")


class DeliveryOut(ApiModel):
    id: int
    subscription_id: uuid.UUID
    event_id: int
    topic: str
    is_replay: bool
    status: str
    attempts: int
    last_status_code: int | None
    last_response_excerpt: str | None
    last_error: str | None
    next_attempt_at: dt.datetime | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None
