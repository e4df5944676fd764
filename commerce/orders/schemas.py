"""Order requests and responses. Money and quantities travel as exact decimal strings, never floats."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated

from pydantic import Field, model_validator

from catalog.schemas.common import Currency, DecimalText, Money, PositiveQuantity, Quantity, UnitCode
from commerce.orders.rules import OrderSource, OrderStatus, TaxRate
from tradeloom.schemas import ApiModel, StrictModel

Note = Annotated[str | None, Field(default=None, max_length=1000)]
MAX_LINES = 200


class CartLineIn(StrictModel):
    """A line of a cart: the price comes from the price engine, not from the caller."""

    material_code: str = Field(min_length=3, max_length=24)
    quantity: PositiveQuantity
    unit: UnitCode
    tax_rate: TaxRate = TaxRate.STANDARD
    requested_date: dt.date | None = None


class CartCheckout(StrictModel):
    supplier_org_id: uuid.UUID
    delivery_site_id: uuid.UUID
    payment_terms: str = Field(default="", max_length=200)
    cost_centre: str | None = Field(default=None, max_length=32)
    requested_date: dt.date | None = None
    submit: bool = Field(default=True, description="submit for approval at once (else it stays a draft)")
    lines: list[CartLineIn] = Field(min_length=1, max_length=MAX_LINES)


class OrderLineIn(StrictModel):
    """A line whose price was agreed elsewhere (an award or a framework contract)."""

    material_id: uuid.UUID
    quantity: PositiveQuantity
    unit: UnitCode
    unit_price: Money
    tax_rate: TaxRate
    requested_date: dt.date | None = None


class OrderCreate(StrictModel):
    supplier_org_id: uuid.UUID
    delivery_site_id: uuid.UUID
    currency: Currency
    payment_terms: str = Field(default="", max_length=200)
    cost_centre: str | None = Field(default=None, max_length=32)
    requested_date: dt.date | None = None
    source: OrderSource
    reference: str | None = Field(default=None, max_length=100)
    lines: list[OrderLineIn] = Field(min_length=1, max_length=MAX_LINES)

    @model_validator(mode="after")
    def _reference_for_award(self) -> "OrderCreate":
        if self.source is not OrderSource.CART and not self.reference:
            raise ValueError("an order from an award or a call-off names it in 'reference'")
        return self


class StepIn(StrictModel):
    note: Note


class LineConfirmation(StrictModel):
    line_id: uuid.UUID
    quantity: Quantity
    date: dt.date | None = None


class ConfirmIn(StrictModel):
    """Confirm as ordered (no lines), or with changed quantities/dates for the lines named."""

    note: Note
    lines: list[LineConfirmation] = Field(default_factory=list, max_length=MAX_LINES)


class LineChange(StrictModel):
    line_id: uuid.UUID
    quantity: PositiveQuantity | None = None
    requested_date: dt.date | None = None


class ChangeOrderIn(StrictModel):
    reason: str = Field(min_length=1, max_length=1000)
    lines: list[LineChange] = Field(min_length=1, max_length=MAX_LINES)


class ApprovalRuleIn(StrictModel):
    name: str = Field(min_length=1, max_length=120)
    currency: Currency
    min_amount: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)]
    class_prefix: str | None = Field(default=None, pattern=r"^[0-9]{2,8}$")
    approvals_required: int = Field(ge=1, le=5)
    is_active: bool = True


class BudgetIn(StrictModel):
    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_\-]{0,31}$")
    currency: Currency
    amount: Money


class OrderLineOut(ApiModel):
    id: uuid.UUID
    line_no: int
    material_id: uuid.UUID
    material_code: str
    quantity: DecimalText
    unit: str
    unit_price: DecimalText
    tax_rate: str
    net: DecimalText
    tax: DecimalText
    gross: DecimalText
    requested_date: dt.date | None
    confirmed_quantity: DecimalText | None
    confirmed_date: dt.date | None
    price_rule: str | None
    price_reference: str | None


class OrderEventOut(ApiModel):
    at: dt.datetime
    kind: str
    from_status: str | None
    to_status: str
    actor_org_id: uuid.UUID
    actor_user_id: uuid.UUID | None
    order_version: int
    note: str | None


class OrderOut(ApiModel):
    id: uuid.UUID
    number: str
    buyer_org_id: uuid.UUID
    supplier_org_id: uuid.UUID
    delivery_site_id: uuid.UUID
    currency: str
    fx_rate_to_cny: DecimalText
    payment_terms: str
    requested_date: dt.date | None
    cost_centre: str | None
    source: OrderSource
    reference: str | None
    status: OrderStatus
    confirmation: str | None
    net_total: DecimalText
    tax_total: DecimalText
    gross_total: DecimalText
    approvals_required: int
    approvals_given: int
    version: int
    created_at: dt.datetime


class OrderDetailOut(OrderOut):
    lines: list[OrderLineOut]
    timeline: list[OrderEventOut]


class OrderPage(ApiModel):
    items: list[OrderOut]
    next_cursor: str | None


class ChangeOrderOut(ApiModel):
    id: uuid.UUID
    order_id: uuid.UUID
    revision: int
    proposed_by_org_id: uuid.UUID
    status: str
    reason: str
    line_changes: list[dict[str, str | None]]
    version: int


class ApprovalRuleOut(ApiModel):
    id: uuid.UUID
    name: str
    currency: str
    min_amount: DecimalText
    class_prefix: str | None
    approvals_required: int
    is_active: bool
    version: int


class BudgetOut(ApiModel):
    id: uuid.UUID
    code: str
    currency: str
    amount: DecimalText
    committed: DecimalText
    version: int
