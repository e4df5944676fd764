"""EPC identifiers in their canonical CBV 2.0 form: GS1 Digital Link URIs on ``https://id.gs1.org``.

Converts the EPC pure-identity URNs of the GS1 Tag Data Standard (``urn:epc:id:sgtin:…`` and friends) and
constrains Digital Link URIs of any resolver to the canonical domain, so that one item is one string
whether a partner wrote a URN or a link. Anything else (``geo:``, private URIs) is kept as it was.
"""

from urllib.parse import quote, unquote

from biip import ParseError
from biip.checksums import gs1_standard_check_digit
from biip.gs1_digital_link_uris import GS1DigitalLinkURI

from ledger.identifiers.digital_link import CANONICAL_DOMAIN, DigitalLink, DigitalLinkInvalid, parse_digital_link

_URN_ID, _URN_CLASS, _URN_PATTERN = "urn:epc:id:", "urn:epc:class:", "urn:epc:idpat:"


def _with_check(digits: str, length: int) -> str:
    """``digits`` (company prefix + reference, ``length`` digits in all) with its GS1 check digit."""
    if not digits.isdigit() or len(digits) != length:
        raise ValueError(f"{digits!r} is not a {length}-digit GS1 key body")
    return digits + str(gs1_standard_check_digit(digits))


def _dl(*pairs: tuple[str, str]) -> str:
    return CANONICAL_DOMAIN + "".join(f"/{ai}/{quote(value, safe='')}" for ai, value in pairs if value)


def _sgtin_gtin(company: str, item: str) -> str:
    return _with_check(item[:1] + company + item[1:], 13)


def _from_urn(scheme: str, parts: list[str]) -> str | None:
    """The Digital Link for one TDS scheme, or None if the parts do not fit it."""
    match scheme, parts:
        case "sgtin", [company, item, serial]:
            return _dl(("01", _sgtin_gtin(company, item)), ("21", serial))
        case "sscc", [company, serial_ref]:
            return _dl(("00", _with_check(serial_ref[:1] + company + serial_ref[1:], 17)))
        case "sgln", [company, location, extension]:
            return _dl(("414", _with_check(company + location, 12)), ("254", "" if extension == "0" else extension))
        case "pgln", [company, party]:
            return _dl(("417", _with_check(company + party, 12)))
        case "gdti", [company, document, serial]:
            return _dl(("253", _with_check(company + document, 12) + serial))
        case "grai", [company, asset, serial]:
            return _dl(("8003", "0" + _with_check(company + asset, 12) + serial))
        case "giai", [company, asset]:
            return _dl(("8004", company + asset))
        case "sgtin", [company, item]:  # idpat: every serial of one GTIN
            return _dl(("01", _sgtin_gtin(company, item)))
        case "lgtin", [company, item, lot]:
            return _dl(("01", _sgtin_gtin(company, item)), ("10", lot))
    return None


def canonical_epc(value: str) -> str:
    """One item, one string: TDS URNs and any resolver's Digital Link become ``https://id.gs1.org/…``."""
    value = value.strip()
    for urn_prefix in (_URN_ID, _URN_CLASS, _URN_PATTERN):
        if value.startswith(urn_prefix):
            scheme, _, rest = value.removeprefix(urn_prefix).partition(":")
            parts = [unquote(part) for part in rest.split(".") if part != "*"]
            try:
                return _from_urn(scheme, parts) or value
            except (ParseError, ValueError):
                return value  # not a well-formed TDS URN: kept as the partner wrote it
    if value.startswith(("http://", "https://")):
        return _canonical_link(value)
    return value


def _canonical_link(uri: str) -> str:
    """Trade items keep GTIN + serial (or + lot); other keys their canonical path; never a query."""
    try:
        if "/01/" in uri:
            link: DigitalLink = parse_digital_link(uri)
            return link.canonical_epc
        return GS1DigitalLinkURI.parse(uri).as_canonical_uri().partition("?")[0]
    except (DigitalLinkInvalid, ParseError):
        return uri
