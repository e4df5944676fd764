"""Customer and contract price lists, price quotes and the comparison of suppliers."""

import datetime as dt
import uuid
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from catalog.schemas.common import Currency, DecimalText, Money, Quantity
from tradeloom.schemas import ApiModel, StrictModel


class PriceListKind(StrEnum):
    CUSTOMER = "customer"  # negotiated prices for one buyer
    CONTRACT = "contract"  # prices fixed by a framework contract; they win over customer prices


class PriceListLineIn(StrictModel):
    """From ``min_quantity`` (in the material's base unit) on, one base unit costs ``unit_price``."""

    material_id: uuid.UUID
    min_quantity: Quantity = Decimal(0)
    unit_price: Money


class PriceListCreate(StrictModel):
    buyer_org_id: uuid.UUID
    name: str = Field(min_length=1, max_length=200)
    kind: PriceListKind = PriceListKind.CUSTOMER
    currency: Currency
    valid_from: dt.date
    valid_to: dt.date | None = None
    reference: str | None = Field(default=None, max_length=100, description="e.g. the contract number")
    lines: list[PriceListLineIn] = Field(min_length=1, max_length=5000)


class PriceListUpdate(StrictModel):
    """Only the fields sent change; ``lines`` replaces all lines."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    reference: str | None = Field(default=None, max_length=100)
    lines: list[PriceListLineIn] | None = Field(default=None, min_length=1, max_length=5000)


class PriceListLineOut(ApiModel):
    material_id: uuid.UUID
    min_quantity: DecimalText
    unit_price: DecimalText


class PriceListOut(ApiModel):
    id: uuid.UUID
    org_id: uuid.UUID = Field(description="the supplier granting the prices")
    buyer_org_id: uuid.UUID
    name: str
    kind: PriceListKind
    currency: str
    valid_from: dt.date
    valid_to: dt.date | None
    reference: str | None
    version: int
    created_at: dt.datetime
    lines: list[PriceListLineOut]


class PriceListSummary(ApiModel):
    id: uuid.UUID
    org_id: uuid.UUID
    buyer_org_id: uuid.UUID
    name: str
    kind: PriceListKind
    currency: str
    valid_from: dt.date
    valid_to: dt.date | None
    version: int


class PriceListPage(ApiModel):
    items: list[PriceListSummary]
    next_cursor: str | None


class PriceQuoteOut(ApiModel):
    """What one order of ``requested_quantity`` would cost from one supplier, and why."""

    material_id: uuid.UUID
    material_code: str
    supplier_org_id: uuid.UUID
    offer_id: uuid.UUID | None
    price_list_id: uuid.UUID | None
    rule: str = Field(description="contract_price_list | customer_price_list | offer_price_break")
    currency: str
    unit_price: DecimalText = Field(description="per order unit")
    order_unit: str
    requested_quantity: DecimalText
    requested_unit: str
    quantity_in_order_unit: DecimalText = Field(description="the request converted exactly to the order unit")
    quantity_exact: bool = Field(description="false when the conversion had to be rounded to 6 places")
    order_quantity: DecimalText = Field(description="after raising to the MOQ and rounding up to whole packs")
    moq: DecimalText
    pack_size: DecimalText
    line_total: DecimalText
    valid_from: dt.date
    valid_to: dt.date | None
    lead_time_days: int | None
    incoterm: str | None
    adjustments: list[str]


class ComparisonOut(ApiModel):
    material_id: uuid.UUID
    requested_quantity: DecimalText
    requested_unit: str
    on_date: dt.date
    quotes: list[PriceQuoteOut] = Field(description="best first: unit price (per base unit), then lead time")
