"""Reconciliation statement requests and answers."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Literal

from pydantic import Field

from tradeloom.schemas import ApiModel, StrictModel


class StatementQuery(StrictModel):
    counterparty_org_id: uuid.UUID
    side: Literal["supplier", "buyer"] = Field(description="supplier: you sold to the counterparty; buyer: you bought")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    period_start: dt.date
    period_end: dt.date


class StatementConfirm(StatementQuery):
    digest: str = Field(pattern=r"^[0-9a-f]{64}$", description="the digest of the statement you read")


class StatementLineOut(ApiModel):
    posted_at: dt.datetime
    category: str
    document: str
    reference: str
    increase: Decimal
    decrease: Decimal
    balance: Decimal


class ConfirmationOut(ApiModel):
    org_id: uuid.UUID
    closing_balance: Decimal
    digest: str
    confirmed_by_user_id: uuid.UUID | None
    created_at: dt.datetime


class StatementOut(ApiModel):
    supplier_org_id: uuid.UUID
    buyer_org_id: uuid.UUID
    currency: str
    period_start: dt.date
    period_end: dt.date
    side: str
    opening_balance: Decimal
    lines: list[StatementLineOut]
    closing_balance: Decimal
    digest: str
    status: str
    confirmations: list[ConfirmationOut]
