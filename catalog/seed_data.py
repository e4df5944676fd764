"""Demo catalogue data: materials generated from the class templates, with trade-typical units and prices.

Pure functions of a seeded ``random.Random``: the same run makes the same catalogue. Every generated
material is checked against its class template before it is used (``check_attributes``), so the demo
data obeys the same rules as data entered through the API.
"""

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from catalog.attributes import AttributeSpec, AttributeType, check_attributes
from catalog.classes import CatalogClass, ClassTree
from catalog.service.materials import json_value
from catalog.units import units

# Which supplier of the demo world makes which groups, how many materials per leaf class, and how they trade.
LINES = {"10": "nbpf", "11": "wxht", "12": "czxd", "30": "czxd", "13": "wzoj", "14": "wzoj", "15": "jshg"}
PER_LEAF = {"10": 30, "11": 20, "12": 25, "30": 10, "13": 30, "14": 8, "15": 12}

_NICE = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 25, 30, 35, 40, 45, 50, 60, 70, 80, 90, 100, 110, 120, 150, 160,
         180, 200, 250, 300, 350, 400, 500, 600, 800, 1000, 1200, 1500, 2000, 2500, 3000, 4000, 5000, 6000)
_FRACTIONS = (Decimal("0.5"), Decimal("0.75"), Decimal("1.5"), Decimal("2.5"))
# Deep groove series dimensions (bore, outside diameter, width in mm) used for every bearing type's sizes.
_BEARING_SIZES = {
    "00": (10, 26, 8), "01": (12, 28, 8), "02": (15, 32, 9), "03": (17, 35, 10), "04": (20, 42, 12),
    "05": (25, 47, 12), "06": (30, 55, 13), "07": (35, 62, 14), "08": (40, 68, 15), "09": (45, 75, 16),
    "10": (50, 80, 16), "11": (55, 90, 18), "12": (60, 95, 18), "13": (65, 100, 18), "14": (70, 110, 20),
}
_BEARING_PREFIX = {"110101": "60", "110102": "70", "110103": "NU10", "110104": "320", "110105": "230",
                   "110106": "511", "110107": "NK", "110108": "UCP2"}


@dataclass(frozen=True)
class Trade:
    """How a leaf class is counted, packed, ordered and priced (price per order unit, CNY)."""

    base_unit: str
    order_unit: str
    pack_sizes: dict[str, str] = field(default_factory=dict)
    moq: Decimal = Decimal(1)
    pack_size: Decimal = Decimal(1)
    price_range: tuple[int, int] = (10, 100)


def trade_of(node: CatalogClass, group: str) -> Trade:
    """Trade habits by group: fasteners by the box, steel by the tonne, pipes by the metre …"""
    if group == "10":
        return Trade("H87", "BX", {"BX": "100", "CT": "1000"}, Decimal(2), Decimal(1), (8, 160))
    if group == "15":
        premium = node.code.startswith("1504") or node.code == "150104"
        return Trade("KGM", "TNE", {}, Decimal(1), Decimal("0.5"), (16000, 24000) if premium else (3800, 6200))
    if node.code.startswith("1401"):
        return Trade("MTR", "MTR", {}, Decimal(6), Decimal(6), (12, 380))
    if node.code == "140301":
        return Trade("MTR", "RO", {"RO": "20"}, Decimal(1), Decimal(1), (300, 2400))
    prices = {"11": (6, 900), "12": (350, 18000), "30": (800, 36000), "13": (80, 6500), "14": (6, 450)}
    return Trade("H87", "H87", {}, Decimal(1), Decimal(1), prices[group])


def _number(spec: AttributeSpec, rng: random.Random) -> Decimal:
    low = spec.min if spec.min is not None else Decimal(0)
    high = spec.max if spec.max is not None else low + 5000
    candidates = [Decimal(n) for n in _NICE if low < n <= high] + [f for f in _FRACTIONS if low < f <= high]
    if not candidates:
        return high
    candidates.sort()
    return rng.choice(candidates[: max(3, len(candidates) * 2 // 3)])  # the common, smaller sizes


def _value(spec: AttributeSpec, rng: random.Random) -> object:
    if spec.type is AttributeType.ENUM:
        return rng.choice((spec.allowed or ())[:12])
    if spec.type is AttributeType.NUMBER:
        return _number(spec, rng)
    if spec.type is AttributeType.RANGE:
        ends = sorted({_number(spec, rng), _number(spec, rng)})
        return {"min": ends[0], "max": ends[-1] if len(ends) > 1 else ends[0]}
    if spec.type is AttributeType.BOOLEAN:
        return rng.random() < 0.5
    return "standard" if spec.key != "colour" else rng.choice(("RAL 7035", "RAL 5015", "RAL 9005"))


def _bearing(node: CatalogClass, values: dict[str, object], rng: random.Random) -> None:
    """Bearings: a designation and matching bore/outside diameter/width instead of independent numbers."""
    suffix = rng.choice(sorted(_BEARING_SIZES))
    bore, outside, width = _BEARING_SIZES[suffix]
    values["designation"] = _BEARING_PREFIX[node.code] + suffix
    for key, size in (("bore_mm", bore), ("outer_diameter_mm", outside), ("width_mm", width)):
        if node.attributes.spec(key) is not None:
            values[key] = Decimal(size)


def attributes_for(node: CatalogClass, rng: random.Random) -> dict[str, object]:
    """Required attributes always, optional ones half of the time."""
    values = {spec.key: _value(spec, rng) for spec in node.attributes.attributes
              if spec.required or rng.random() < 0.5}
    if node.code in _BEARING_PREFIX:
        _bearing(node, values, rng)
    return values


def _shown(spec: AttributeSpec | None, value: object, chinese: bool) -> str:
    if spec is None:
        return str(value)
    if isinstance(value, dict):
        return f"{value['min']}–{value['max']}{units()[spec.unit].symbol if spec.unit else ''}"
    if isinstance(value, Decimal):
        return f"{value}{units()[spec.unit].symbol if spec.unit else ''}"
    if isinstance(value, bool):
        return ""
    if chinese and spec.allowed_zh and str(value) in spec.allowed_zh:
        return spec.allowed_zh[str(value)]
    return str(value)


def names_for(node: CatalogClass, values: dict[str, object]) -> tuple[str, str]:
    """Names as buyers write them: the class, then the identifying values ("M8×40" for thread and length)."""
    if "thread" in values and isinstance(values.get("length_mm"), Decimal):
        values = {"size": f"{values['thread']}×{values['length_mm']}"} | {
            key: value for key, value in values.items() if key not in ("thread", "length_mm")}
    specs = {spec.key: spec for spec in node.attributes.attributes}
    shown = [(specs.get(key), value) for key, value in values.items()][:5]
    zh = " ".join(filter(None, (_shown(spec, value, True) for spec, value in shown)))
    en = " ".join(filter(None, (_shown(spec, value, False) for spec, value in shown)))
    return f"{node.name_zh} {zh}"[:300], f"{node.name_en} {en}"[:300]


@dataclass(frozen=True)
class DemoMaterial:
    node: CatalogClass
    group: str
    attributes: dict[str, Any]
    name_zh: str
    name_en: str
    trade: Trade
    list_price: Decimal  # per order unit, before each supplier's own margin


def demo_materials(tree: ClassTree, rng: random.Random) -> list[DemoMaterial]:
    """Distinct, template-valid materials for every leaf under the demo suppliers' groups."""
    found: list[DemoMaterial] = []
    for group, count in PER_LEAF.items():
        for node in (n for n in tree.descendants(group) if tree.is_leaf(n.code)):
            seen: set[str] = set()
            for _ in range(count * 6):
                if len(seen) == count:
                    break
                check = check_attributes(node.attributes, attributes_for(node, rng))
                stored = {key: json_value(value) for key, value in check.values.items()}
                key = repr(sorted(stored.items()))
                if check.problems or key in seen:
                    continue
                seen.add(key)
                trade = trade_of(node, group)
                name_zh, name_en = names_for(node, dict(check.values))
                price = Decimal(rng.randint(*trade.price_range)) + Decimal(rng.randint(0, 99)) / 100
                found.append(DemoMaterial(node, group, stored, name_zh, name_en, trade, price))
    return found
