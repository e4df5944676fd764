"""The quality score of one material, 0–100, with the reasons for every point lost (pure: no database).

    score = 100 − completeness loss (≤ 40) − validity loss (≤ 25) − consistency loss (≤ 20) − freshness loss (≤ 15)

- completeness: 40 × share of the class template's required attributes that are missing;
- validity: 25 × share of the given attribute values that break the template (wrong type, unknown value,
  out of range, unknown attribute); all 25 when the class is not a leaf of the class tree;
- consistency: 5 for an unknown base unit, 5 for a GTIN with a wrong check digit (2 when there is none),
  5 for a Chinese name without Chinese characters, 5 for an English name that is empty or contains them;
- freshness: 10 when no active offer is valid today, 5 when no offer was created or changed in the last
  180 days (both lost when there is no offer).
"""

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from catalog.attributes import AttributeProblemCode, check_attributes
from catalog.classes import load_class_tree
from catalog.codes import gtin_problem
from catalog.units import units

COMPLETENESS, VALIDITY, CONSISTENCY_PART, LIVE_OFFER, RECENT_PRICE = 40, 25, 5, 10, 5
NO_GTIN = 2
RECENT = dt.timedelta(days=180)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


@dataclass(frozen=True, slots=True)
class QualityFacts:
    """What the score looks at: the material's own fields and a summary of its offers."""

    class_code: str
    name_zh: str
    name_en: str
    base_unit: str
    gtin: str | None
    attributes: dict[str, Any]
    has_live_offer: bool
    last_offer_change: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Reason:
    """Why points were lost: a stable code, the points, and a message naming the attribute or field."""

    code: str
    points: float
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "points": self.points, "message": self.message}


@dataclass(frozen=True, slots=True)
class Assessment:
    score: int
    reasons: tuple[Reason, ...]


def _template_reasons(facts: QualityFacts) -> list[Reason]:
    node = load_class_tree().get(facts.class_code)
    if node is None or not load_class_tree().is_leaf(facts.class_code):
        return [Reason("unknown_class", VALIDITY, f"class {facts.class_code} is not a leaf of the class tree")]
    template = node.attributes
    problems = check_attributes(template, facts.attributes).problems
    missing = [p.key for p in problems if p.code is AttributeProblemCode.MISSING_REQUIRED]
    invalid = [p for p in problems if p.code is not AttributeProblemCode.MISSING_REQUIRED]
    required = [spec for spec in template.attributes if spec.required]
    reasons: list[Reason] = []
    if missing:
        points = round(COMPLETENESS * len(missing) / len(required), 1)
        reasons.append(Reason("missing_required", points, f"required attributes missing: {', '.join(missing)}"))
    if invalid:
        points = round(VALIDITY * min(1.0, len(invalid) / max(1, len(facts.attributes))), 1)
        reasons.append(Reason("invalid_attribute", points, "; ".join(p.message for p in invalid)))
    return reasons


def _consistency_reasons(facts: QualityFacts) -> list[Reason]:
    reasons: list[Reason] = []
    if facts.base_unit not in units():
        reasons.append(Reason("unknown_unit", CONSISTENCY_PART, f"base unit {facts.base_unit!r} is not a known unit"))
    if facts.gtin is None:
        reasons.append(Reason("no_gtin", NO_GTIN, "no GTIN"))
    elif problem := gtin_problem(facts.gtin):
        reasons.append(Reason("bad_gtin", CONSISTENCY_PART, problem))
    if not _HAN.search(facts.name_zh):
        reasons.append(Reason("name_zh_not_chinese", CONSISTENCY_PART, "the Chinese name has no Chinese characters"))
    if not _LATIN.search(facts.name_en) or _HAN.search(facts.name_en):
        reasons.append(Reason("name_en_not_english", CONSISTENCY_PART,
                              "the English name is empty or contains Chinese characters"))
    return reasons


def _freshness_reasons(facts: QualityFacts, now: dt.datetime) -> list[Reason]:
    reasons: list[Reason] = []
    if not facts.has_live_offer:
        reasons.append(Reason("no_live_offer", LIVE_OFFER, "no active offer is valid today"))
    if facts.last_offer_change is None or now - facts.last_offer_change > RECENT:
        message = f"no offer created or changed in the last {RECENT.days} days"
        reasons.append(Reason("stale_prices", RECENT_PRICE, message))
    return reasons


def assess(facts: QualityFacts, *, now: dt.datetime) -> Assessment:
    """The score and its reasons, worst first."""
    reasons = _template_reasons(facts) + _consistency_reasons(facts) + _freshness_reasons(facts, now)
    reasons.sort(key=lambda reason: -reason.points)
    return Assessment(max(0, min(100, round(100 - sum(reason.points for reason in reasons)))), tuple(reasons))
