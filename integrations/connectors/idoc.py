"""SAP IDocs in XML (ORDERS05 and its kind) as plain nested records that a connector mapping can read.

Every IDoc (``<IDOC BEGIN="1">``) becomes one record: each segment is a dict of its fields, a segment that
may repeat is a list under its name (``E1EDP01`` → the items), and a segment carrying a qualifier
(``QUALF``, or ``PARVW`` for partners) is also filed under ``<name>_<qualifier>`` so a mapping can name the
one it wants: ``E1EDKA1_LF.PARTN`` is the vendor, ``E1EDP19_001.IDTNR`` the buyer's material number.

Parsed with defusedxml, document type declarations forbidden: no entity expansion, no external entities.
"""

from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from tradeloom.errors import Invalid

QUALIFIERS = ("QUALF", "PARVW")
MAX_BYTES = 20 * 1024 * 1024


def _is_segment(element: Element) -> bool:
    return len(element) > 0 or element.get("SEGMENT") is not None


def _segment(element: Element) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for child in element:
        if _is_segment(child):
            inner = _segment(child)
            record.setdefault(child.tag, []).append(inner)
            qualifier = next((inner[key] for key in QUALIFIERS if key in inner), None)
            if qualifier is not None:
                record.setdefault(f"{child.tag}_{qualifier}", inner)
        else:
            record[child.tag] = (child.text or "").strip()
    return record


def idoc_records(xml: bytes) -> list[dict[str, Any]]:
    """One record per IDoc in the file; 422 ``idoc_unreadable`` for anything that is not IDoc XML."""
    if len(xml) > MAX_BYTES:
        raise Invalid("IDoc files are at most 20 MiB.", code="idoc_unreadable")
    try:
        root = fromstring(xml, forbid_dtd=True)
    except DefusedXmlException:
        raise Invalid("IDoc files must be plain XML without a document type declaration or entities.",
                      code="idoc_unreadable") from None
    except ParseError as exc:
        raise Invalid(f"The IDoc is not well-formed XML ({exc}).", code="idoc_unreadable") from None
    idocs = root.findall("IDOC")
    if not idocs:
        raise Invalid("No <IDOC> element found (expected e.g. <ORDERS05><IDOC BEGIN=\"1\">…).",
                      code="idoc_unreadable")
    return [_segment(idoc) for idoc in idocs]
