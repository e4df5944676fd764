"""Logistics requests and responses. Quantities travel as exact decimal strings, never floats; whether a
quantity must be whole depends on the unit (pieces, boxes …) and is checked by the services."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from catalog.schemas.common import Currency, DecimalText, Money, Quantity
from commerce.logistics.rules import TrackingState
from tradeloom.schemas import ApiModel, StrictModel

Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")]
Batch = Annotated[str, Field(default="", max_length=20, pattern=r"^[!-~]*$")]
SerialNumber = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[!-~]+$")]
Weight = Annotated[DecimalText | None, Field(default=None, ge=0, max_digits=12, decimal_places=3)]
Text = Annotated[str | None, Field(default=None, max_length=1000)]
MAX_LINES = 200
MAX_SERIALS = 1000


class LocationIn(StrictModel):
    code: Code
    name: str = Field(default="", max_length=120)


class WarehouseCreate(StrictModel):
    site_id: uuid.UUID
    code: Code
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    locations: list[LocationIn] = Field(min_length=1, max_length=500)


class LocationOut(ApiModel):
    id: uuid.UUID
    code: str
    name: str


class WarehouseOut(ApiModel):
    id: uuid.UUID
    site_id: uuid.UUID
    code: str
    name_zh: str
    name_en: str
    locations: list[LocationOut]


class StockReceiptIn(StrictModel):
    material_id: uuid.UUID
    location_id: uuid.UUID
    quantity: Quantity
    batch: Batch = ""
    serial: Batch = ""
    reason: Text = None


class StockIssueIn(StrictModel):
    material_id: uuid.UUID
    location_id: uuid.UUID
    quantity: Quantity
    batch: Batch = ""
    serial: Batch = ""
    reason: str = Field(min_length=1, max_length=300)


class StockTransferIn(StrictModel):
    material_id: uuid.UUID
    from_location_id: uuid.UUID
    to_location_id: uuid.UUID
    quantity: Quantity
    batch: Batch = ""
    serial: Batch = ""


class StockAdjustmentIn(StrictModel):
    material_id: uuid.UUID
    location_id: uuid.UUID
    counted: Quantity
    reason: str = Field(min_length=1, max_length=300, description="why the count differs (damage, loss …)")
    batch: Batch = ""
    serial: Batch = ""


class StockLevelOut(ApiModel):
    warehouse_id: uuid.UUID
    location_id: uuid.UUID
    material_id: uuid.UUID
    batch: str
    serial: str
    quantity: DecimalText
    unit: str


class StockBalanceOut(ApiModel):
    warehouse_id: uuid.UUID
    material_id: uuid.UUID
    on_hand: DecimalText
    reserved: DecimalText
    unit: str


class StockOut(ApiModel):
    balances: list[StockBalanceOut]
    levels: list[StockLevelOut]


class ReserveIn(StrictModel):
    warehouse_id: uuid.UUID


class ReservationOut(ApiModel):
    id: uuid.UUID
    order_line_id: uuid.UUID
    warehouse_id: uuid.UUID
    quantity: DecimalText
    backordered: DecimalText
    unit: str
    status: str
    expires_at: dt.datetime


class ItemIn(StrictModel):
    location_id: uuid.UUID
    quantity: Quantity
    batch: Batch = ""
    serial: Batch = ""
    package: str | None = Field(default=None, max_length=40)


class ShipmentLineIn(StrictModel):
    order_line_id: uuid.UUID
    quantity: Quantity
    items: list[ItemIn] = Field(min_length=1, max_length=1000)


class PackageIn(StrictModel):
    label: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._\-]+$")
    kind: str = Field(default="package", pattern=r"^(package|pallet)$")
    parent: str | None = Field(default=None, max_length=40)
    gross_weight_kg: Weight = None


class ShipmentCreate(StrictModel):
    order_id: uuid.UUID
    warehouse_id: uuid.UUID
    lines: list[ShipmentLineIn] = Field(min_length=1, max_length=MAX_LINES)
    packages: list[PackageIn] = Field(default_factory=list, max_length=500)
    carrier_code: str | None = Field(default=None, max_length=32)
    tracking_number: str | None = Field(default=None, max_length=64)
    gross_weight_kg: Weight = None
    note: Text = None


class ShipmentOut(ApiModel):
    id: uuid.UUID
    number: str
    order_id: uuid.UUID
    order_number: str
    buyer_org_id: uuid.UUID
    supplier_org_id: uuid.UUID
    carrier_org_id: uuid.UUID | None
    status: str
    tracking_state: str
    tracking_number: str | None
    gross_weight_kg: DecimalText | None
    dispatched_at: dt.datetime | None
    delivered_at: dt.datetime | None
    received_at: dt.datetime | None
    version: int
    created_at: dt.datetime


class ShipmentLineOut(ApiModel):
    id: uuid.UUID
    line_no: int
    order_line_id: uuid.UUID
    material_id: uuid.UUID
    material_code: str
    quantity: DecimalText
    unit: str


class PackageOut(ApiModel):
    id: uuid.UUID
    kind: str
    label: str
    parent_id: uuid.UUID | None
    gross_weight_kg: DecimalText | None
    identifier_handle: str | None


class ItemOut(ApiModel):
    id: uuid.UUID
    shipment_line_id: uuid.UUID
    package_id: uuid.UUID | None
    batch: str
    serial: str
    quantity: DecimalText
    identifier_handle: str | None


class TrackingEventOut(ApiModel):
    at: dt.datetime
    state: str
    location: str | None
    note: str | None
    source: str


class ShipmentDetailOut(ShipmentOut):
    lines: list[ShipmentLineOut]
    packages: list[PackageOut]
    items: list[ItemOut]
    tracking: list[TrackingEventOut]


class TrackingIn(StrictModel):
    state: TrackingState
    at: dt.datetime | None = None
    location: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=500)


class CarrierEventIn(StrictModel):
    """What a carrier posts to its webhook (signed): one tracking step of one parcel."""

    event_id: str = Field(min_length=1, max_length=64)
    tracking_number: str = Field(min_length=1, max_length=64)
    state: TrackingState
    at: dt.datetime
    location: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=500)


class CarrierEventOut(ApiModel):
    status: str  # recorded | duplicate


class ReceiptLineIn(StrictModel):
    shipment_line_id: uuid.UUID
    batch: Batch = ""
    accepted: Quantity
    rejected: Quantity = Decimal(0)
    rejection_reason: str | None = Field(default=None, max_length=300)
    rejected_serials: list[SerialNumber] = Field(default_factory=list, max_length=MAX_SERIALS)  # serial-tracked goods


class ReceiptCreate(StrictModel):
    location_id: uuid.UUID
    inspection: str = Field(default="passed", pattern=r"^(passed|partial|failed)$")
    notes: str | None = Field(default=None, max_length=2000)
    lines: list[ReceiptLineIn] = Field(default_factory=list, max_length=1000,
                                       description="empty: everything accepted as shipped")


class ReceiptLineOut(ApiModel):
    id: uuid.UUID  # what a return names (``receipt_line_id``)
    order_line_id: uuid.UUID
    shipment_line_id: uuid.UUID
    batch: str
    accepted: DecimalText
    rejected: DecimalText
    unit: str
    rejection_reason: str | None
    serials: list[str]  # accepted serial numbers (serial-tracked goods)


class ReceiptOut(ApiModel):
    id: uuid.UUID
    number: str
    shipment_id: uuid.UUID
    order_id: uuid.UUID
    inspection: str
    notes: str | None
    received_at: dt.datetime
    lines: list[ReceiptLineOut]



class ReturnLineIn(StrictModel):
    receipt_line_id: uuid.UUID
    quantity: Quantity
    serials: list[SerialNumber] = Field(default_factory=list, max_length=MAX_SERIALS)  # serial-tracked goods


class ReturnCreate(StrictModel):
    receipt_id: uuid.UUID
    reason: str = Field(min_length=3, max_length=1000)
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=MAX_LINES)


class ReturnStepIn(StrictModel):
    note: str | None = Field(default=None, max_length=1000)
    carrier_name: str | None = Field(default=None, max_length=100)
    tracking_number: str | None = Field(default=None, max_length=64)
    location_id: uuid.UUID | None = None  # receive: where the supplier puts the goods (default: picked from)


class ReturnLineOut(ApiModel):
    receipt_line_id: uuid.UUID
    order_line_id: uuid.UUID
    batch: str = ""
    serials: list[str] = Field(default_factory=list)
    quantity: DecimalText
    unit: str


class ReturnOut(ApiModel):
    id: uuid.UUID
    number: str
    receipt_id: uuid.UUID
    order_id: uuid.UUID
    buyer_org_id: uuid.UUID
    supplier_org_id: uuid.UUID
    reason: str
    status: str
    lines: list[ReturnLineOut]
    supplier_note: str | None
    tracking_number: str | None
    version: int


class FreightRequestIn(StrictModel):
    provider_org_ids: list[uuid.UUID] = Field(min_length=1, max_length=20)
    deliver_to: str = Field(min_length=2, max_length=300)


class FreightQuoteIn(StrictModel):
    price: Money
    currency: Currency = "CNY"
    transit_days: int = Field(ge=0, le=365)
    note: str | None = Field(default=None, max_length=500)


class FreightQuoteOut(ApiModel):
    id: uuid.UUID
    shipment_id: uuid.UUID
    requester_org_id: uuid.UUID
    provider_org_id: uuid.UUID
    status: str
    pickup_from: str
    deliver_to: str
    gross_weight_kg: DecimalText | None
    packages: int
    price: DecimalText | None
    currency: str | None
    transit_days: int | None
    version: int
