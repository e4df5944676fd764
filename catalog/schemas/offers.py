"""Supplier offers: part number, price breaks, MOQ, pack size, order unit, lead time, Incoterm, stock."""

import datetime as dt
import uuid
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import Field

from catalog.schemas.common import Currency, DecimalText, Incoterm, Money, PositiveQuantity, Quantity, UnitCode
from tradeloom.schemas import ApiModel, StrictModel


class OfferStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    WITHDRAWN = "withdrawn"


class PriceTierIn(StrictModel):
    """From ``min_quantity`` (in the offer's order unit) on, one order unit costs ``unit_price``."""

    min_quantity: PositiveQuantity
    unit_price: Money


PartNumber: Any = Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z._/#+-]{0,63}$", description="the supplier's own part number")
Tiers: Any = Field(min_length=1, max_length=20, description="price breaks, ascending min_quantity")


class OfferCreate(StrictModel):
    material_id: uuid.UUID
    supplier_part_number: str = PartNumber
    currency: Currency
    order_unit: UnitCode
    moq: PositiveQuantity = Field(default=Decimal(1), description="minimum order quantity, in the order unit")
    pack_size: PositiveQuantity = Field(default=Decimal(1), description="orders are whole multiples of this")
    lead_time_days: int = Field(default=7, ge=0, le=3650)
    incoterm: Incoterm = Incoterm.EXW
    valid_from: dt.date
    valid_to: dt.date | None = None
    status: OfferStatus = OfferStatus.ACTIVE
    price_tiers: list[PriceTierIn] = Tiers


class OfferUpdate(StrictModel):
    """Only the fields sent change; ``price_tiers`` replaces all tiers."""

    supplier_part_number: str | None = Field(default=None, pattern=r"^[0-9A-Za-z][0-9A-Za-z._/#+-]{0,63}$")
    currency: Currency | None = None
    order_unit: UnitCode | None = None
    moq: PositiveQuantity | None = None
    pack_size: PositiveQuantity | None = None
    lead_time_days: int | None = Field(default=None, ge=0, le=3650)
    incoterm: Incoterm | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    status: OfferStatus | None = None
    price_tiers: list[PriceTierIn] | None = Field(default=None, min_length=1, max_length=20)


class StockIn(StrictModel):
    quantity: Quantity = Field(description="available now at the site, in the offer's order unit (≥ 0)")


class PriceTierOut(ApiModel):
    min_quantity: DecimalText
    unit_price: DecimalText


class StockOut(ApiModel):
    site_id: uuid.UUID
    quantity: DecimalText
    updated_at: dt.datetime


class OfferOut(ApiModel):
    id: uuid.UUID
    org_id: uuid.UUID = Field(description="the supplier")
    material_id: uuid.UUID
    supplier_part_number: str
    currency: str
    order_unit: str
    moq: DecimalText
    pack_size: DecimalText
    lead_time_days: int
    incoterm: str
    valid_from: dt.date
    valid_to: dt.date | None
    status: OfferStatus
    version: int
    created_at: dt.datetime
    price_tiers: list[PriceTierOut]
    stock: list[StockOut]


class OfferPage(ApiModel):
    items: list[OfferOut]
    next_cursor: str | None
