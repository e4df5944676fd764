"""Supply-chain finance requests and answers."""

import datetime as dt
import uuid
from decimal import Decimal

from pydantic import Field

from tradeloom.schemas import ApiModel, StrictModel


class RequestCreate(StrictModel):
    invoice_id: uuid.UUID


class OfferCreate(StrictModel):
    annual_rate_pct: Decimal = Field(gt=0, le=100, max_digits=9, decimal_places=6)
    expires_on: dt.date | None = None  # last day the supplier may accept; None: until maturity


class RequestOut(ApiModel):
    id: uuid.UUID
    org_id: uuid.UUID
    invoice_id: uuid.UUID
    buyer_org_id: uuid.UUID
    fapiao_number: str
    currency: str
    amount: Decimal
    maturity: dt.date
    status: str
    created_at: dt.datetime


class OfferOut(ApiModel):
    id: uuid.UUID
    org_id: uuid.UUID
    request_id: uuid.UUID
    kind: str
    annual_rate_pct: Decimal
    days: int
    discount: Decimal
    advance: Decimal
    status: str
    expires_on: dt.date | None


class AssignmentOut(ApiModel):
    id: uuid.UUID
    invoice_id: uuid.UUID
    org_id: uuid.UUID
    buyer_org_id: uuid.UUID
    financier_org_id: uuid.UUID
    currency: str
    amount: Decimal
    maturity: dt.date
    status: str
    evidence_entry_id: int | None


class CreditInputsOut(ApiModel):
    invoices: int
    volume_by_currency: dict[str, Decimal]
    disputed_invoices: int
    paid_invoices: int
    paid_late: int
    average_days_late: Decimal
    max_days_late: int
    open_overdue: int
    performance_score: Decimal = Field(description="platform-wide supplier scorecard 0–100 (50: no history)")
    performance_stars: Decimal
