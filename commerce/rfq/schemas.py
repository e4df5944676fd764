"""RFQ and quotation bodies (in) and documents (out). Money and quantities travel as exact decimal strings."""

import datetime as dt
import uuid
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, Field, model_validator

from catalog.schemas.common import Currency, DecimalText, Money, PositiveQuantity, Quantity, UnitCode
from tradeloom.schemas import ApiModel, StrictModel


class Visibility(StrEnum):
    INVITED = "invited"  # only the suppliers the buyer names
    OPEN = "open"  # every supplier with offers in the lines' classes


class RfqStatus(StrEnum):
    OPEN = "open"
    AWARDED = "awarded"


class AwardOutcome(StrEnum):
    ORDER = "order"  # purchase orders, one per supplier
    CONTRACT = "contract"  # a spot contract per supplier, to be signed by both


class RfqLineIn(StrictModel):
    """A catalogue material, or free text with a class (and attributes) for what the catalogue lacks."""

    material_id: uuid.UUID | None = None
    description: str | None = Field(default=None, min_length=1, max_length=300)
    class_code: str | None = Field(default=None, pattern=r"^(?:[0-9]{2}){1,4}$")
    attributes: dict[str, Any] = Field(default_factory=dict)
    quantity: PositiveQuantity
    unit: UnitCode
    required_date: dt.date

    @model_validator(mode="after")
    def material_or_text(self) -> "RfqLineIn":
        if self.material_id is None and (self.description is None or self.class_code is None):
            raise ValueError("give material_id, or description and class_code")
        return self


class RfqCreate(StrictModel):
    title: str = Field(min_length=1, max_length=200)
    currency: Currency
    delivery_site_id: uuid.UUID
    deadline: AwareDatetime
    terms: str = Field(default="", max_length=10_000)
    visibility: Visibility = Visibility.INVITED
    supplier_org_ids: list[uuid.UUID] = Field(default_factory=list, max_length=200)
    lines: list[RfqLineIn] = Field(min_length=1, max_length=200)


class RfqLineOut(ApiModel):
    id: uuid.UUID
    line_no: int
    material_id: uuid.UUID | None
    description: str
    class_code: str
    attributes: dict[str, Any]
    quantity: DecimalText
    unit: str
    required_date: dt.date


class RfqOut(ApiModel):
    id: uuid.UUID
    org_id: uuid.UUID = Field(description="the buyer")
    title: str
    currency: str
    delivery_site_id: uuid.UUID
    deadline: dt.datetime
    terms: str
    visibility: Visibility
    status: RfqStatus
    version: int
    created_at: dt.datetime
    lines: list[RfqLineOut]


class RfqSummary(ApiModel):
    id: uuid.UUID
    org_id: uuid.UUID
    title: str
    currency: str
    deadline: dt.datetime
    visibility: Visibility
    status: RfqStatus
    version: int


class InvitationsIn(StrictModel):
    supplier_org_ids: list[uuid.UUID] = Field(min_length=1, max_length=200)


class InviteTopIn(StrictModel):
    top: int = Field(ge=1, le=50, description="the best N matches of every line")


class InvitationOut(ApiModel):
    supplier_org_id: uuid.UUID
    source: str
    invited_at: dt.datetime


class SupplierMatchOut(ApiModel):
    """One supplier for one line: catalogue fit, the price engine's price, rating, lead time, and the match score."""

    supplier_org_id: uuid.UUID
    fit: str = Field(description="material (offers this very material) | class (offers in the line's class)")
    currency: str | None
    unit_price: DecimalText | None = Field(description="per the line's unit")
    line_total: DecimalText | None
    lead_time_days: int | None
    rating: DecimalText | None = Field(description="supplier performance stars 1–5 (3.0: no history, neutral)")
    rating_score: DecimalText | None = Field(description="supplier performance score 0–100, platform-wide")
    rated: bool = Field(description="false: the supplier has no history yet and the neutral prior stands in")
    match_score: DecimalText = Field(description="0–100: fit 30 + price 40 + rating 20 + lead time 10 points")
    parts: dict[str, DecimalText] = Field(description="points per factor: fit, price, rating, lead_time, capacity")


class LineMatchesOut(ApiModel):
    rfq_line_id: uuid.UUID
    line_no: int
    suppliers: list[SupplierMatchOut]


class QuestionIn(StrictModel):
    question: str = Field(min_length=1, max_length=4000)


class AnswerIn(StrictModel):
    answer: str = Field(min_length=1, max_length=4000)


class QuestionOut(ApiModel):
    """The asker is never shown: ``asked_by_you`` tells a supplier its own questions apart."""

    id: uuid.UUID
    question: str
    answer: str | None
    created_at: dt.datetime
    answered_at: dt.datetime | None
    asked_by_you: bool


Freight = Annotated[Quantity, Field(decimal_places=4)]  # money that may be zero


class PriceTierIn(StrictModel):
    min_quantity: Quantity
    unit_price: Money


class QuotationLineIn(StrictModel):
    rfq_line_id: uuid.UUID
    unit: UnitCode = Field(description="the unit the prices are per (converted to the buyer's in the comparison)")
    price_tiers: list[PriceTierIn] = Field(min_length=1, max_length=20)
    lead_time_days: int = Field(ge=0, le=3650)
    alternative: str | None = Field(default=None, min_length=1, max_length=300,
                                    description="an alternative product offered instead of the one asked")


class QuotationIn(StrictModel):
    currency: Currency
    valid_until: dt.date
    freight: Freight = Decimal(0)
    notes: str = Field(default="", max_length=4000)
    lines: list[QuotationLineIn] = Field(min_length=1, max_length=200)


class PriceTierOut(ApiModel):
    min_quantity: DecimalText
    unit_price: DecimalText


class QuotationLineOut(ApiModel):
    id: uuid.UUID
    rfq_line_id: uuid.UUID
    unit: str
    price_tiers: list[PriceTierOut]
    lead_time_days: int
    alternative: str | None


class QuotationOut(ApiModel):
    id: uuid.UUID
    rfq_id: uuid.UUID
    org_id: uuid.UUID = Field(description="the supplier")
    revision: int
    status: str
    currency: str
    valid_until: dt.date
    freight: DecimalText
    notes: str
    submitted_at: dt.datetime
    lines: list[QuotationLineOut]


class ComparisonCellOut(ApiModel):
    supplier_org_id: uuid.UUID
    quotation_line_id: uuid.UUID
    quoted_unit: str
    unit_price: DecimalText = Field(description="per the buyer's unit, from the price break the quantity reaches")
    line_total: DecimalText
    lead_time_days: int
    alternative: str | None


class ComparisonLineOut(ApiModel):
    rfq_line_id: uuid.UUID
    line_no: int
    description: str
    quantity: DecimalText
    unit: str
    cells: list[ComparisonCellOut] = Field(description="cheapest first")


class SupplierTotalOut(ApiModel):
    supplier_org_id: uuid.UUID
    quotation_id: uuid.UUID
    lines_quoted: int
    goods_total: DecimalText
    freight: DecimalText
    landed_total: DecimalText


class ComparisonOut(ApiModel):
    rfq_id: uuid.UUID
    currency: str
    lines: list[ComparisonLineOut]
    suppliers: list[SupplierTotalOut] = Field(description="lowest landed total first")


class AwardLineIn(StrictModel):
    quotation_line_id: uuid.UUID
    quantity: PositiveQuantity = Field(description="in the RFQ line's unit; split a line by awarding parts")


class AwardIn(StrictModel):
    outcome: AwardOutcome
    lines: list[AwardLineIn] = Field(min_length=1, max_length=400)


class AwardOut(ApiModel):
    id: uuid.UUID
    rfq_line_id: uuid.UUID
    quotation_line_id: uuid.UUID
    supplier_org_id: uuid.UUID
    quantity: DecimalText
    unit: str
    unit_price: DecimalText
    currency: str
    outcome: AwardOutcome
    reference: str | None
