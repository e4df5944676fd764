"""Recognise identifiers in a search box: material codes, GTINs, scanned GS1 strings and Digital Link URIs.

A scanner types what the barcode holds: a GTIN, a GS1 element string such as ``0109506000134352…`` (with
FNC1 as a group separator, or in brackets as printed under the barcode), or a Digital Link URI such as
``https://id.gs1.org/01/09506000134352/10/ABC``. ``biip`` parses all of them; we keep only the GTIN (01).
"""

import re
from dataclasses import dataclass

from biip import ParseError, parse
from biip.gs1_messages import GS1Message

from catalog.codes import MATERIAL_CODE, check_material_code, gtin_problem

_PART_NUMBER = re.compile(r"[0-9A-Za-z][0-9A-Za-z./_#+-]{2,63}")
_DIGITS = re.compile(r"[0-9]{8,14}")


@dataclass(frozen=True)
class Identifiers:
    """What the text could be looked up as; all empty for ordinary words."""

    material_code: str | None = None
    gtins: tuple[str, ...] = ()
    part_number: str | None = None

    @property
    def any(self) -> bool:
        return bool(self.material_code or self.gtins or self.part_number)


def gtin_forms(gtin: str) -> tuple[str, ...]:
    """A GTIN as it may be stored: the 14-digit form and the shorter ones its leading zeros allow."""
    gtin14 = gtin.zfill(14)
    return tuple(gtin14[-length:] for length in (14, 13, 12, 8) if gtin14[:-length].strip("0") == "")


def _scanned_gtin(text: str) -> str | None:
    try:
        if text.startswith("("):
            element = GS1Message.parse_hri(text).element_strings.get(ai="01")
            return element.gtin.as_gtin_14() if element and element.gtin else None
        result = parse(text)
    except (ParseError, ValueError):
        return None
    if result.gtin is not None:
        return result.gtin.as_gtin_14()
    for container in (result.gs1_message, result.gs1_digital_link_uri):
        element = container.element_strings.get(ai="01") if container is not None else None
        if element is not None and element.gtin is not None:
            return element.gtin.as_gtin_14()
    return None


def identify(text: str) -> Identifiers:
    """The identifiers ``text`` may be; a malformed code or GTIN is not one (fuzzy search catches typos)."""
    candidate = text.strip()
    if not candidate or " " in candidate:
        return Identifiers()
    code = candidate.upper()
    if MATERIAL_CODE.fullmatch(code) and check_material_code(code) is None:
        return Identifiers(material_code=code)
    gtins: tuple[str, ...] = ()
    if _DIGITS.fullmatch(candidate):
        gtins = gtin_forms(candidate) if gtin_problem(candidate) is None else ()
    elif (scanned := _scanned_gtin(candidate)) is not None:
        gtins = gtin_forms(scanned)
    part_number = candidate if _PART_NUMBER.fullmatch(candidate) else None
    return Identifiers(gtins=gtins, part_number=part_number)
