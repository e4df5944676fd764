"""Parsers for the text of one cell: each returns the value or raises ``CellProblem`` with a clear message."""

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from functools import cache

from babel.numbers import list_currencies

from catalog.attributes import AttributeSpec, AttributeType
from catalog.codes import check_material_code, gtin_problem
from catalog.errors import UnknownUnit
from catalog.units import get_unit

INCOTERMS_2020 = frozenset({"EXW", "FCA", "CPT", "CIP", "DAP", "DPU", "DDP", "FAS", "FOB", "CFR", "CIF"})
MONEY_PLACES = 4
QUANTITY_PLACES = 6
_QUANTITY_WITH_UNIT = re.compile(r"^(?P<value>\S+)\s+(?P<unit>[A-Z0-9]{2,3})$")
_RANGE = re.compile(r"^(?P<min>[^.\s]\S*?)\s*\.\.\s*(?P<max>\S+?)(?:\s+(?P<unit>[A-Z0-9]{2,3}))?$")
_TRUE, _FALSE = frozenset({"true", "yes", "1", "是"}), frozenset({"false", "no", "0", "否"})


class CellProblem(Exception):
    """One cell's value is not acceptable; ``code`` is stable, ``message`` names what is wrong."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def decimal(text: str, *, places: int, positive: bool = False) -> Decimal:
    """A finite decimal with at most ``places`` decimal places (e.g. "12.50")."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise CellProblem("not_a_number", f"{text!r} is not a number") from None
    if not number.is_finite():
        raise CellProblem("not_a_number", f"{text!r} is not a number")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise CellProblem("too_precise", f"{text} has more than {places} decimal places")
    if positive and number <= 0:
        raise CellProblem("not_positive", f"{text} must be greater than 0")
    return number


def whole_number(text: str, *, low: int, high: int) -> int:
    """An integer within ``low..high``."""
    if not re.fullmatch(r"[0-9]+", text) or not low <= int(text) <= high:
        raise CellProblem("out_of_range", f"{text!r} must be a whole number from {low} to {high}")
    return int(text)


def iso_date(text: str) -> dt.date:
    """A date written YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CellProblem("bad_date", f"{text!r} is not a date written YYYY-MM-DD") from None


@cache
def _currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def currency(text: str) -> str:
    """An ISO 4217 currency code such as CNY."""
    if text not in _currencies():
        raise CellProblem("bad_currency", f"{text!r} is not an ISO 4217 currency code (e.g. CNY, USD)")
    return text


def unit_code(text: str) -> str:
    """A UN/ECE Rec 20 unit code such as H87, KGM, MTR."""
    try:
        return get_unit(text).code
    except UnknownUnit:
        raise CellProblem("bad_unit", f"{text!r} is not a known unit code (UN/ECE Rec 20, e.g. H87, KGM)") from None


def incoterm(text: str) -> str:
    """An Incoterms 2020 rule."""
    if text not in INCOTERMS_2020:
        rules = ", ".join(sorted(INCOTERMS_2020))
        raise CellProblem("bad_incoterm", f"{text!r} is not an Incoterms 2020 rule ({rules})")
    return text


def gtin(text: str) -> str:
    """A GTIN-8/12/13/14 with a right check digit."""
    if problem := gtin_problem(text):
        raise CellProblem("bad_gtin", problem)
    return text


def material_code(text: str) -> str:
    """A well-formed unified material code (the check character is verified)."""
    if problem := check_material_code(text):
        raise CellProblem("bad_material_code", problem)
    return text


def price_tiers(text: str) -> list[tuple[Decimal, Decimal]]:
    """Price breaks "min quantity:unit price" separated by ";", e.g. "1:12.50; 100:11.80", ascending."""
    tiers: list[tuple[Decimal, Decimal]] = []
    for part in filter(None, (piece.strip() for piece in text.split(";"))):
        quantity, colon, price = part.partition(":")
        if not colon:
            raise CellProblem("bad_price_tiers", f"{part!r} is not written 'min quantity:unit price'")
        tiers.append((decimal(quantity.strip(), places=QUANTITY_PLACES),
                      decimal(price.strip(), places=MONEY_PLACES, positive=True)))
    if not tiers:
        raise CellProblem("bad_price_tiers", "give at least one price, e.g. '1:12.50'")
    quantities = [quantity for quantity, _ in tiers]
    if quantities != sorted(set(quantities)) or quantities[0] < 0:
        raise CellProblem("bad_price_tiers", "tier quantities must be non-negative, ascending and distinct")
    return tiers


def _number_value(text: str) -> object:
    match = _QUANTITY_WITH_UNIT.match(text)
    return {"value": match["value"], "unit": match["unit"]} if match else text


def attribute_value(text: str, spec: AttributeSpec) -> object:
    """A cell written for a template attribute, as ``check_attributes`` takes it.

    Numbers: "30" (template unit) or "3 CMT"; ranges: "10..20" or "1..2 CMT"; booleans: true/false/是/否.
    """
    if spec.type is AttributeType.NUMBER:
        return _number_value(text)
    if spec.type is AttributeType.RANGE:
        match = _RANGE.match(text)
        if match is None:
            raise CellProblem("bad_range", f"{spec.key}: {text!r} is not written 'min..max [unit]'")
        bounds = {"min": match["min"], "max": match["max"]}
        return bounds | ({"unit": match["unit"]} if match["unit"] else {})
    if spec.type is AttributeType.BOOLEAN:
        folded = text.casefold()
        if folded not in _TRUE | _FALSE:
            raise CellProblem("wrong_type", f"{spec.key}: {text!r} is not true or false")
        return folded in _TRUE
    return text
