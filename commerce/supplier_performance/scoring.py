"""Scorecard arithmetic without I/O: monthly fact sums → rolling windows → a 0–100 score and a 1–5 star rating.

Each metric is a rate in [0, 1]: the sum of per-event values over the number of events (e.g. on-time receipt
lines / receipt lines with a due date). Before weighting, a rate is smoothed towards a neutral prior of 0.5 with
``PRIOR_WEIGHT`` pseudo-events, so that a supplier with no history scores exactly 50 (3.0 stars), and a handful
of events moves the score only part of the way. The score is the weighted mean of the smoothed rates × 100;
stars are ``1 + 4 × score / 100``.
"""

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# documented weights (they sum to 100); docs/supplier-performance.md explains each metric
WEIGHTS: dict[str, Decimal] = {
    "on_time": Decimal(30),
    "quality": Decimal(25),
    "invoice_accuracy": Decimal(15),
    "confirmation": Decimal(10),
    "quotation_response": Decimal(10),
    "reviews": Decimal(10),
}
PRIOR = Decimal("0.5")
PRIOR_WEIGHT = Decimal(3)
NEUTRAL_SCORE = Decimal("50.0")
WINDOW_MONTHS = 12
# platform-wide metric detail is shown to a buyer only when this many buyers contributed facts
MIN_BUYERS_FOR_DETAIL = 3
_TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Fact:
    """One row of ``tl_supplier_performance_facts``: a monthly sum for one supplier and metric."""

    supplier_org_id: uuid.UUID
    month: dt.date | None
    metric: str
    total: Decimal
    observations: int


@dataclass(frozen=True)
class Metric:
    name: str
    weight: Decimal
    observations: int
    rate: Decimal | None  # raw rate (None without events)
    smoothed: Decimal  # what the score uses


@dataclass(frozen=True)
class Score:
    score: Decimal  # 0–100, one decimal
    stars: Decimal  # 1–5, one decimal
    metrics: list[Metric]
    average_confirmation_hours: Decimal | None
    average_review_stars: Decimal | None
    buyers: int

    @property
    def has_history(self) -> bool:
        return any(metric.observations for metric in self.metrics)


def month_start(day: dt.date, months_back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


def _ratio(total: Decimal, observations: int) -> Decimal | None:
    return (total / observations).quantize(Decimal("0.0001"), ROUND_HALF_UP) if observations else None


def score(totals: dict[str, tuple[Decimal, int]], buyers: int = 0) -> Score:
    """The score of one window's sums per metric (metrics absent count as no events)."""
    metrics = []
    for name, weight in WEIGHTS.items():
        total, observations = totals.get(name, (Decimal(0), 0))
        smoothed = (total + PRIOR * PRIOR_WEIGHT) / (observations + PRIOR_WEIGHT)
        metrics.append(Metric(name, weight, observations, _ratio(total, observations), smoothed))
    value = sum((m.weight * m.smoothed for m in metrics), Decimal(0)) / sum(WEIGHTS.values()) * 100
    value = value.quantize(_TENTH, ROUND_HALF_UP)
    hours_total, answered = totals.get("confirmation_hours", (Decimal(0), 0))
    review_rate = _ratio(*totals.get("reviews", (Decimal(0), 0)))
    return Score(
        score=value, stars=(1 + 4 * value / 100).quantize(_TENTH, ROUND_HALF_UP), metrics=metrics,
        average_confirmation_hours=(hours_total / answered).quantize(_TENTH, ROUND_HALF_UP) if answered else None,
        average_review_stars=(1 + 4 * review_rate).quantize(_TENTH, ROUND_HALF_UP) if review_rate is not None else None,
        buyers=buyers)


def window_totals(facts: Iterable[Fact], *, first: dt.date, last: dt.date) -> dict[uuid.UUID, dict[str, tuple[
        Decimal, int]]]:
    """Sum monthly facts from month ``first`` to month ``last`` (both included), per supplier and metric."""
    sums: dict[uuid.UUID, dict[str, tuple[Decimal, int]]] = defaultdict(dict)
    for fact in facts:
        if fact.month is None or not first <= fact.month <= last:
            continue
        total, observations = sums[fact.supplier_org_id].get(fact.metric, (Decimal(0), 0))
        sums[fact.supplier_org_id][fact.metric] = (total + fact.total, observations + fact.observations)
    return sums


def buyer_counts(facts: Iterable[Fact]) -> dict[uuid.UUID, int]:
    return {fact.supplier_org_id: fact.observations for fact in facts if fact.metric == "buyers"}


def scores(facts: list[Fact], *, as_of: dt.date) -> dict[uuid.UUID, Score]:
    """Every supplier's score over the ``WINDOW_MONTHS`` months ending with ``as_of``'s month."""
    counts = buyer_counts(facts)
    sums = window_totals(facts, first=month_start(as_of, WINDOW_MONTHS - 1), last=month_start(as_of))
    return {supplier: score(totals, counts.get(supplier, 0)) for supplier, totals in sums.items()}


def trend(facts: list[Fact], *, supplier_org_id: uuid.UUID, as_of: dt.date, points: int = 12
          ) -> list[tuple[dt.date, Decimal]]:
    """The rolling score at the end of each of the last ``points`` months, oldest first."""
    own = [fact for fact in facts if fact.supplier_org_id == supplier_org_id]
    result = []
    for back in range(points - 1, -1, -1):
        last = month_start(as_of, back)
        totals = window_totals(own, first=month_start(last, WINDOW_MONTHS - 1), last=last)
        result.append((last, score(totals.get(supplier_org_id, {})).score))
    return result


def neutral() -> Score:
    """The prior of a supplier without history: 50, 3.0 stars."""
    return score({})
