"""Units of measure (UN/ECE Recommendation 20 codes) and exact quantity conversion.

Every unit belongs to one dimension (mass, length, count …) and converts to that dimension's base unit
by ``value * factor + offset``. Factors are stored as exact decimals or fractions and the arithmetic is
done in ``Fraction``, so 1.5 TNE is exactly 1500 KGM and 1 PS is exactly 44482216152605/6451600000 PAL.
A result with no finite decimal form (1 °F in °C, 5 pieces in dozens) is refused unless the caller names
the number of decimal places to round to: a silent rounding would turn a stock quantity into a guess.

Packaging units (box, pack, set, roll …) have no fixed size; their content is declared per material in a
``pack_sizes`` mapping, e.g. ``{"BX": PackSize(Decimal(100), "H87")}`` (a box of 100 pieces) or
``{"RO": PackSize(Decimal(100), "MTR")}`` (a 100 m roll of cable).
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cache
from importlib import resources
from typing import NamedTuple

from catalog.errors import IncompatibleUnits, InexactConversion, InvalidQuantity, UnknownUnit

# A pack may hold other packs (a carton of boxes); deeper nesting than this is a data error, not a pallet.
_MAX_PACK_NESTING = 4


@dataclass(frozen=True, slots=True)
class Unit:
    """One unit of measure; ``factor`` is None for packaging units sized per material."""

    code: str
    name_zh: str
    name_en: str
    symbol: str
    dimension: str
    factor: Fraction | None
    offset: Fraction = Fraction(0)


@dataclass(frozen=True, slots=True)
class Dimension:
    """A physical dimension and its base unit."""

    key: str
    base: str
    name_zh: str
    name_en: str


class PackSize(NamedTuple):
    """What one packaging unit of a given material holds, e.g. a box of 100 pieces."""

    quantity: Decimal
    unit: str


class _Scale(NamedTuple):
    dimension: str
    factor: Fraction
    offset: Fraction


def _fraction(text: str) -> Fraction:
    """Parse "0.45359237" or "5/9" exactly (Fraction never goes through float for strings)."""
    return Fraction(text)


@cache
def _table() -> tuple[dict[str, Unit], dict[str, Dimension]]:
    raw = json.loads(resources.files("catalog.data").joinpath("units.json").read_text(encoding="utf-8"))
    dimensions = {
        d["key"]: Dimension(d["key"], d["base"], d["name_zh"], d["name_en"]) for d in raw["dimensions"]
    }
    units = {
        u["code"]: Unit(
            code=u["code"], name_zh=u["name_zh"], name_en=u["name_en"], symbol=u["symbol"],
            dimension=u["dimension"],
            factor=None if u.get("per_material") else _fraction(u["factor"]),
            offset=_fraction(u.get("offset", "0")),
        )
        for u in raw["units"]
    }
    return units, dimensions


def units() -> dict[str, Unit]:
    """All units by Rec 20 code."""
    return dict(_table()[0])


def dimensions() -> dict[str, Dimension]:
    """All dimensions by key, each with its base unit."""
    return dict(_table()[1])


def get_unit(code: str) -> Unit:
    """The unit with this Rec 20 code, or ``UnknownUnit``."""
    unit = _table()[0].get(code)
    if unit is None:
        raise UnknownUnit(f"Unknown unit of measure {code!r}.", errors=[{"unit": code}])
    return unit


def _scale(code: str, pack_sizes: Mapping[str, PackSize], depth: int = 0) -> _Scale:
    """Dimension and exact factor/offset to the base unit, resolving packaging units via pack sizes."""
    unit = get_unit(code)
    if unit.factor is not None:
        return _Scale(unit.dimension, unit.factor, unit.offset)
    pack = pack_sizes.get(code)
    if pack is None:
        raise UnknownUnit(
            f"{unit.name_en} ({code}) has no fixed size; give this material's pack size for {code}.",
            code="catalog.pack_size_missing", errors=[{"unit": code}],
        )
    if depth >= _MAX_PACK_NESTING or pack.quantity <= 0:
        raise UnknownUnit(f"Pack size for {code} is not usable.", code="catalog.pack_size_invalid")
    inner = _scale(pack.unit, pack_sizes, depth + 1)
    if inner.offset:
        raise IncompatibleUnits(f"A pack of {pack.unit} cannot be counted.")
    return _Scale(inner.dimension, inner.factor * Fraction(pack.quantity), Fraction(0))


def dimension_of(code: str, *, pack_sizes: Mapping[str, PackSize] | None = None) -> str:
    """The dimension a unit measures (packaging units take their content's dimension)."""
    return _scale(code, pack_sizes or {}).dimension


def to_decimal(value: Fraction, *, places: int | None = None) -> Decimal:
    """Exact decimal form of a fraction, or rounded half-even to ``places`` when the caller asks.

    Decimals are built from digit strings, never by arithmetic, so no context precision can round them.
    """
    if places is not None:
        return Decimal(f"{round(value * 10**places)}E-{places}")
    exact = _terminating_digits(value)
    if exact is None:
        raise InexactConversion(f"{value} has no exact decimal form; ask for a number of decimal places.")
    numerator, exponent = exact
    return Decimal(f"{numerator}E-{exponent}")


def _terminating_digits(value: Fraction) -> tuple[int, int] | None:
    """(n, e) with value == n / 10**e, or None when the denominator has a prime factor other than 2 and 5."""
    denominator, twos, fives = value.denominator, 0, 0
    while denominator % 2 == 0:
        denominator, twos = denominator // 2, twos + 1
    while denominator % 5 == 0:
        denominator, fives = denominator // 5, fives + 1
    if denominator != 1:
        return None
    exponent = max(twos, fives)
    return value.numerator * 2 ** (exponent - twos) * 5 ** (exponent - fives), exponent


def convert(
    quantity: Decimal, from_code: str, to_code: str, *,
    pack_sizes: Mapping[str, PackSize] | None = None, places: int | None = None,
) -> Decimal:
    """Convert a quantity exactly between two units of the same dimension.

    Raises ``IncompatibleUnits`` across dimensions, ``UnknownUnit`` for unknown codes or a packaging unit
    without a pack size, and ``InexactConversion`` when the result needs rounding and ``places`` is None.
    """
    if not isinstance(quantity, Decimal) or not quantity.is_finite():
        raise InvalidQuantity(f"Quantity {quantity!r} must be a finite Decimal.")
    packs = pack_sizes or {}
    source, target = _scale(from_code, packs), _scale(to_code, packs)
    if source.dimension != target.dimension:
        raise IncompatibleUnits(
            f"Cannot convert {from_code} ({source.dimension}) to {to_code} ({target.dimension}).",
            errors=[{"from": from_code, "to": to_code}],
        )
    in_base = Fraction(quantity) * source.factor + source.offset
    return to_decimal((in_base - target.offset) / target.factor, places=places)
