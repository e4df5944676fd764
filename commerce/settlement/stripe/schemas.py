"""Card payment requests and answers."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Literal

from pydantic import Field

from tradeloom.schemas import ApiModel, StrictModel


class PaymentCreate(StrictModel):
    supplier_org_id: uuid.UUID
    amount: Decimal = Field(gt=0, le=Decimal("99999999999999"), max_digits=18, decimal_places=4)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    reference: str = Field(min_length=1, max_length=100)
    capture_method: Literal["automatic", "manual"] = "automatic"
    invoice_id: uuid.UUID | None = None
    payment_request_id: uuid.UUID | None = None  # a milestone payment request (not together with invoice_id)


class PaymentConfirm(StrictModel):
    payment_method: str = Field(min_length=3, max_length=255, pattern=r"^pm_[A-Za-z0-9_]+$")


class RefundCreate(StrictModel):
    amount: Decimal = Field(gt=0, max_digits=18, decimal_places=4)
    reason: Literal["duplicate", "fraudulent", "requested_by_customer"] | None = None


class PaymentOut(ApiModel):
    id: uuid.UUID
    org_id: uuid.UUID
    supplier_org_id: uuid.UUID
    reference: str
    invoice_id: uuid.UUID | None
    payment_request_id: uuid.UUID | None = None
    currency: str
    amount: Decimal
    capture_method: str
    payment_intent_id: str | None
    status: str
    amount_received: Decimal
    amount_refunded: Decimal
    last_error: str | None
    created_at: dt.datetime


class RefundOut(ApiModel):
    id: uuid.UUID
    payment_id: uuid.UUID
    refund_id: str
    amount: Decimal
    reason: str | None
    created_at: dt.datetime


class WebhookAnswer(ApiModel):
    received: bool
    outcome: str
