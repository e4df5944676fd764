"""GS1 Digital Link URIs for trade items: ``/01/{gtin}[/10/{lot}][/21/{serial}]``, parsed and checked with biip."""

from dataclasses import dataclass
from urllib.parse import quote

from biip import ParseError
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gtin import Gtin

from tradeloom.errors import Invalid, TradeloomError

CANONICAL_DOMAIN = "https://id.gs1.org"


class DigitalLinkInvalid(TradeloomError):
    status, default_code, title = 400, "digital_link_invalid", "Invalid GS1 Digital Link"


@dataclass(frozen=True)
class DigitalLink:
    """A trade item at GTIN, lot or serial granularity."""

    gtin: str
    lot: str | None = None
    serial: str | None = None

    @property
    def path(self) -> str:
        """The path in GS1's qualifier order (lot before serial), values percent-encoded."""
        path = f"/01/{self.gtin}"
        if self.lot:
            path += f"/10/{quote(self.lot, safe='')}"
        if self.serial:
            path += f"/21/{quote(self.serial, safe='')}"
        return path

    def uri(self, base_url: str) -> str:
        return base_url.rstrip("/") + self.path

    @property
    def canonical_epc(self) -> str:
        """The CBV 2.0 canonical form: an instance is GTIN + serial only, a class GTIN + lot."""
        if self.serial:
            return f"{CANONICAL_DOMAIN}/01/{self.gtin}/21/{quote(self.serial, safe='')}"
        return DigitalLink(self.gtin, self.lot).uri(CANONICAL_DOMAIN)


def gtin_problem(gtin: str) -> str | None:
    """Why ``gtin`` is not a valid GTIN-8/12/13/14 (length, digits, check digit), or None."""
    if not gtin.isdigit() or len(gtin) not in (8, 12, 13, 14):
        return "must be 8, 12, 13 or 14 digits"
    try:
        Gtin.parse(gtin)
    except ParseError as exc:
        return str(exc)
    return None


def normalise_gtin(gtin: str, *, pointer: str = "/gtin") -> str:
    """The GTIN as 14 digits; a wrong length or check digit is a 422 naming the field."""
    if problem := gtin_problem(gtin):
        raise Invalid(f"GTIN {gtin!r}: {problem}.", code="gtin_invalid",
                      errors=[{"pointer": pointer, "detail": problem}])
    return Gtin.parse(gtin).as_gtin_14()


def parse_digital_link(uri: str) -> DigitalLink:
    """Read a GS1 Digital Link URI with a GTIN as primary key; anything else is a 400."""
    try:
        parsed = GS1DigitalLinkURI.parse(uri)
    except ParseError as exc:
        raise DigitalLinkInvalid(f"Not a valid GS1 Digital Link URI: {exc}") from exc
    elements = {element.ai.ai: element for element in parsed.element_strings}
    if "01" not in elements:
        raise DigitalLinkInvalid("Only GTIN-keyed Digital Links (/01/…) are resolved here.",
                                 code="primary_key_unsupported")
    gtin_element = elements["01"]
    if gtin_element.gtin_error or gtin_element.gtin is None:
        raise DigitalLinkInvalid(f"Invalid GTIN: {gtin_element.gtin_error}", code="gtin_invalid")
    lot, serial = elements.get("10"), elements.get("21")
    return DigitalLink(gtin=gtin_element.gtin.as_gtin_14(), lot=lot.value if lot else None,
                       serial=serial.value if serial else None)
