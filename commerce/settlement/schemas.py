"""Request and response bodies of the settlement API."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from pydantic import Field

from commerce.settlement.notes import Adjusts
from commerce.settlement.rules import FapiaoType, InvoiceKind, Resolution
from tradeloom.schemas import ApiModel, StrictModel

Quantity = Field(gt=0, max_digits=18, decimal_places=6)
Money = Field(ge=0, max_digits=18, decimal_places=4)
TaxRateCode = Field(min_length=1, max_length=8, pattern=r"^[0-9a-z.]+$")
FapiaoNumber = Field(min_length=8, max_length=20, pattern=r"^[0-9A-Za-z]+$")


class InvoiceLineIn(StrictModel):
    order_id: uuid.UUID
    order_line_id: uuid.UUID
    quantity: Decimal = Quantity
    unit_price: Decimal = Money
    tax_rate: str = TaxRateCode  # a code of the tax-rate table in force on the issue date ("13", "9", "exempt" …)


class InvoiceCreate(StrictModel):
    fapiao_type: FapiaoType
    fapiao_number: str = FapiaoNumber
    issue_date: dt.date
    lines: list[InvoiceLineIn] = Field(min_length=1, max_length=200)


class NoteLineIn(StrictModel):
    invoice_line_no: int = Field(ge=1, le=200)
    adjusts: Adjusts
    quantity: Decimal = Quantity
    unit_price: Decimal = Field(gt=0, max_digits=18, decimal_places=4)


class NoteCreate(StrictModel):
    kind: InvoiceKind
    fapiao_type: FapiaoType
    fapiao_number: str = FapiaoNumber
    issue_date: dt.date
    lines: list[NoteLineIn] = Field(min_length=1, max_length=200)


class ResolutionIn(StrictModel):
    resolution: Resolution
    note: str | None = Field(default=None, max_length=500)


class TolerancesIn(StrictModel):
    quantity_pct: Decimal = Field(ge=0, le=100, max_digits=7, decimal_places=4)
    price_pct: Decimal = Field(ge=0, le=100, max_digits=7, decimal_places=4)


class EscrowDepositIn(StrictModel):
    amount: Decimal = Field(gt=0, max_digits=18, decimal_places=2)


class MatchLineIn(StrictModel):
    invoice_id: uuid.UUID


class InvoiceLineOut(ApiModel):
    line_no: int
    order_id: uuid.UUID
    order_line_id: uuid.UUID
    material_code: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    tax_rate: str
    net: Decimal
    tax: Decimal
    gross: Decimal
    match_status: str
    match_reasons: list[dict[str, str]]
    resolution_note: str | None
    adjusts: str | None


class InvoiceOut(ApiModel):
    id: uuid.UUID
    kind: str
    corrects_invoice_id: uuid.UUID | None
    buyer_org_id: uuid.UUID
    supplier_org_id: uuid.UUID
    currency: str
    status: str
    fapiao_type: str
    fapiao_number: str
    issue_date: dt.date
    seller_name: str
    seller_uscc: str
    buyer_name: str
    buyer_uscc: str
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal
    due_date: dt.date
    payment_reference: str
    fapiao_file: dict[str, Any] | None
    version: int


class InvoiceDetailOut(InvoiceOut):
    lines: list[InvoiceLineOut]
    outstanding: Decimal
    overdue: bool


class PaymentOut(ApiModel):
    id: uuid.UUID
    invoice_id: uuid.UUID | None
    order_id: uuid.UUID | None
    method: str
    kind: str
    amount: Decimal
    currency: str
    reference: str
    journal_entry_id: uuid.UUID
    created_at: dt.datetime


class ImportResultOut(ApiModel):
    matched: int
    unmatched: int
    duplicates: int


class StatementLineOut(ApiModel):
    id: uuid.UUID
    bank_ref: str
    booking_date: dt.date
    amount: Decimal
    currency: str
    remittance: str
    payer_name: str
    status: str


class PaymentInstructionsOut(ApiModel):
    method: str
    status: str
    instructions: dict[str, str]


class BalanceOut(ApiModel):
    account: str
    currency: str
    balance: Decimal


class PaymentRequestOut(ApiModel):
    """A milestone's payment request, with the bank transfer instructions to pay it."""

    id: uuid.UUID
    order_id: uuid.UUID
    order_number: str
    buyer_org_id: uuid.UUID
    supplier_org_id: uuid.UUID
    milestone: str
    percent: Decimal
    amount: Decimal
    currency: str
    due_date: dt.date
    payment_reference: str
    paid_amount: Decimal
    status: str
    overdue: bool = False
    instructions: dict[str, str] = Field(default_factory=dict)


class TaxRateIn(StrictModel):
    country: str = Field(default="CN", pattern=r"^[A-Z]{2}$")
    code: str = TaxRateCode
    rate_pct: Decimal = Field(ge=0, lt=100, max_digits=8, decimal_places=4)  # 13 for 13 %
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=100)
    valid_from: dt.date
    valid_to: dt.date | None = None


class TaxRateEndIn(StrictModel):
    valid_to: dt.date


class TaxRateOut(ApiModel):
    id: uuid.UUID
    country: str
    code: str
    rate: Decimal
    name_zh: str
    name_en: str
    valid_from: dt.date
    valid_to: dt.date | None


class ClassTaxRateIn(StrictModel):
    country: str = Field(default="CN", pattern=r"^[A-Z]{2}$")
    tax_rate_code: str = TaxRateCode


class ClassTaxRateOut(ApiModel):
    class_code: str
    country: str
    tax_rate_code: str
