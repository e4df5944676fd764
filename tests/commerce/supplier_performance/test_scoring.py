"""Scorecard arithmetic without I/O: the neutral prior, smoothing, weights, windows and the trend."""

import datetime as dt
import uuid
from decimal import Decimal

from commerce.supplier_performance import scoring
from commerce.supplier_performance.scoring import Fact

SUPPLIER = uuid.UUID(int=7)


def test_weights_are_out_of_100() -> None:
    assert sum(scoring.WEIGHTS.values()) == 100


def test_no_history_is_the_neutral_prior_not_zero() -> None:
    neutral = scoring.neutral()
    assert (neutral.score, neutral.stars, neutral.has_history) == (Decimal("50.0"), Decimal("3.0"), False)
    assert all(metric.rate is None and metric.smoothed == Decimal("0.5") for metric in neutral.metrics)


def test_rates_are_smoothed_towards_the_prior_and_weighted() -> None:
    # given 9 of 10 receipt lines on time and 1 of 1 invoice clean, nothing else
    result = scoring.score({"on_time": (Decimal(9), 10), "invoice_accuracy": (Decimal(1), 1)})
    # then on-time is (9 + 1.5) / 13 and invoice accuracy (1 + 1.5) / 4; the rest stay 0.5
    on_time, quality, invoices = result.metrics[:3]
    assert (on_time.rate, on_time.observations, quality.rate) == (Decimal("0.9000"), 10, None)
    assert invoices.smoothed == Decimal("0.625")
    expected = (30 * Decimal("10.5") / 13 + 25 * Decimal("0.5") + 15 * Decimal("0.625") + 30 * Decimal("0.5"))
    assert result.score == expected.quantize(Decimal("0.1")) == Decimal("61.1")
    assert result.stars == Decimal("3.4")


def test_perfect_history_scores_high_and_poor_history_low() -> None:
    perfect = {name: (Decimal(40), 40) for name in scoring.WEIGHTS}
    poor = {name: (Decimal(0), 40) for name in scoring.WEIGHTS}
    assert scoring.score(perfect).score == Decimal("96.5")
    assert scoring.score(poor).score == Decimal("3.5")
    assert scoring.score(poor).stars == Decimal("1.1")


def test_averages_for_display() -> None:
    result = scoring.score({"confirmation_hours": (Decimal(30), 4), "reviews": (Decimal("1.5"), 2)})
    assert result.average_confirmation_hours == Decimal("7.5")
    assert result.average_review_stars == Decimal("4.0")  # (4 + 3 stars) / 2 → rate 0.75


def test_window_keeps_only_its_months_and_the_trend_rolls() -> None:
    # given one late delivery 13 months ago and one on-time delivery this month
    as_of = dt.date(2026, 11, 25)
    facts = [Fact(SUPPLIER, dt.date(2025, 10, 1), "on_time", Decimal(0), 1),
             Fact(SUPPLIER, dt.date(2026, 11, 1), "on_time", Decimal(1), 1),
             Fact(SUPPLIER, None, "buyers", Decimal(2), 2)]
    # then the 12-month window (Dec 2025 – Nov 2026) sees only the on-time one
    found = scoring.scores(facts, as_of=as_of)[SUPPLIER]
    assert (found.metrics[0].observations, found.metrics[0].rate, found.buyers) == (1, Decimal("1.0000"), 2)
    # and the trend's first point (Dec 2025: window Jan 2025 – Dec 2025) sees only the late one
    trend = scoring.trend(facts, supplier_org_id=SUPPLIER, as_of=as_of)
    assert [month for month, _ in trend][:2] == [dt.date(2025, 12, 1), dt.date(2026, 1, 1)]
    assert trend[0][1] == scoring.score({"on_time": (Decimal(0), 1)}).score == Decimal("46.3")
    assert trend[-1][1] == found.score
    assert trend[-2][1] == Decimal("50.0")  # Oct 2026: the late one fell out of the window, nothing else yet
