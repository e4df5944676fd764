"""Scorecards out, reviews in and out."""

import datetime as dt
import uuid

from pydantic import Field

from catalog.schemas.common import DecimalText
from commerce.supplier_performance.scoring import Score
from commerce.supplier_performance.service import Scorecard, ScorecardRow
from tradeloom.schemas import ApiModel, StrictModel


class MetricOut(ApiModel):
    name: str = Field(description="on_time | quality | invoice_accuracy | confirmation | quotation_response | reviews")
    weight: DecimalText = Field(description="share of the score, out of 100")
    observations: int = Field(description="events in the window (receipt lines, orders, invitations, invoices…)")
    rate: DecimalText | None = Field(description="raw rate 0–1; null without events")
    smoothed: DecimalText = Field(description="the rate the score uses: pulled towards 0.5 by 3 pseudo-events")


class ScoreOut(ApiModel):
    score: DecimalText = Field(description="0–100")
    stars: DecimalText = Field(description="1–5")
    has_history: bool
    metrics: list[MetricOut] | None = Field(description="null when withheld (platform-wide, fewer than 3 buyers)")
    average_confirmation_hours: DecimalText | None
    average_review_stars: DecimalText | None


class TrendPointOut(ApiModel):
    month: dt.date
    platform_score: DecimalText
    own_score: DecimalText | None


class ReviewOut(ApiModel):
    id: uuid.UUID
    order_id: uuid.UUID
    stars: int
    comment: str
    created_at: dt.datetime


class ScorecardOut(ApiModel):
    """One supplier: the platform-wide score, your own facts' score (buyers), the monthly trend, reviews."""

    supplier_org_id: uuid.UUID
    supplier_name_zh: str
    supplier_name_en: str
    as_of: dt.date
    window_start: dt.date
    platform: ScoreOut
    own: ScoreOut | None = Field(description="from your organization's own orders, receipts and invoices")
    trend: list[TrendPointOut]
    reviews: list[ReviewOut] = Field(description="the reviews you may read: your own, or all of yours as supplier")


class ScorecardRowOut(ApiModel):
    supplier_org_id: uuid.UUID
    supplier_name_zh: str
    supplier_name_en: str
    own: ScoreOut
    platform_score: DecimalText
    platform_stars: DecimalText


class ReviewIn(StrictModel):
    order_id: uuid.UUID
    stars: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=2000)


def score_out(score: Score, *, detail: bool = True) -> ScoreOut:
    return ScoreOut(score=score.score, stars=score.stars, has_history=score.has_history,
                    metrics=[MetricOut.model_validate(m) for m in score.metrics] if detail else None,
                    average_confirmation_hours=score.average_confirmation_hours if detail else None,
                    average_review_stars=score.average_review_stars if detail else None)


def scorecard_out(card: Scorecard) -> ScorecardOut:
    return ScorecardOut(
        supplier_org_id=card.supplier_org_id, supplier_name_zh=card.supplier_name_zh,
        supplier_name_en=card.supplier_name_en, as_of=card.as_of, window_start=card.window_start,
        platform=score_out(card.platform, detail=card.platform_detail),
        own=score_out(card.own) if card.own is not None else None,
        trend=[TrendPointOut(month=month, platform_score=platform, own_score=own)
               for month, platform, own in card.trend],
        reviews=[ReviewOut.model_validate(review) for review in card.reviews])


def row_out(row: ScorecardRow) -> ScorecardRowOut:
    return ScorecardRowOut(supplier_org_id=row.supplier_org_id, supplier_name_zh=row.supplier_name_zh,
                           supplier_name_en=row.supplier_name_en, own=score_out(row.own),
                           platform_score=row.platform.score, platform_stars=row.platform.stars)
