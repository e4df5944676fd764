"""An ORDERS message (D.96A or D.01B) read into a plain purchase-order document, without any I/O.

The segment subset both directories share for a simple order: BGM (document), DTM (dates), NAD (parties),
CUX (currency), then per line LIN (item), PIA (more item ids), QTY (quantity), PRI (price), DTM (line
delivery date); UNS/CNT/RFF/FTX/MOA/TAX/LOC are allowed and not needed. A known segment with a qualifier we
do not understand rejects the message: guessing what an ordered quantity or a date means is how wrong goods
get shipped.
"""

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

from pydifact.segments import Segment

from integrations.edi.syntax import Message, element

SUPPORTED_DIRECTORIES = frozenset({"D96A", "D01B"})
ORDER_DOCUMENT_CODES = frozenset({"220", "105"})  # order, purchase order
ITEM_ID_TYPES = {"EN": "GTIN", "SRV": "GTIN", "SA": "supplier's article number", "IN": "buyer's item number",
                 "MP": "platform material code"}
PARTY_QUALIFIERS = frozenset({"BY", "SU", "DP", "ST", "IV"})
DATE_QUALIFIERS = frozenset({"137", "2", "63", "64"})
_IGNORED = frozenset({"UNS", "CNT", "RFF", "FTX", "MOA", "TAX", "LOC", "CTA", "COM", "PAT", "TDT", "TOD", "IMD",
                      "MEA", "ALI", "GIN"})


class EdiRejection(Exception):
    """The message is well-formed but cannot become an order; ``reason`` says why in the partner's terms."""

    def __init__(self, reason: str, *, code: str = "edi_message_rejected") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class ItemId:
    code: str
    kind: str  # an ITEM_ID_TYPES key


@dataclass(frozen=True)
class OrdersLine:
    line_number: str
    item_ids: tuple[ItemId, ...]
    quantity: Decimal | None = None
    unit: str | None = None
    price: Decimal | None = None
    delivery_date: dt.date | None = None


@dataclass
class OrdersDocument:
    message_reference: str
    number: str = ""
    document_date: dt.date | None = None
    delivery_date: dt.date | None = None
    currency: str | None = None
    parties: dict[str, str] = field(default_factory=dict)  # NAD qualifier → party id
    lines: list[OrdersLine] = field(default_factory=list)


def _number(value: str, what: str) -> Decimal:
    try:
        number = Decimal(value.replace(",", "."))  # ISO 9735 allows either decimal mark in data
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise EdiRejection(f"{what} {value!r} is not a number.", code="edi_number_invalid")
    return number


def _date(segment: Segment) -> tuple[str, dt.date]:
    qualifier, value, format_code = element(segment, 0, 0), element(segment, 0, 1), element(segment, 0, 2)
    if qualifier not in DATE_QUALIFIERS:
        raise EdiRejection(f"DTM qualifier {qualifier!r} is not one we understand "
                           f"(expected one of {', '.join(sorted(DATE_QUALIFIERS))}).", code="edi_qualifier_unknown")
    formats = {"102": "%Y%m%d", "203": "%Y%m%d%H%M"}
    if format_code not in formats:
        raise EdiRejection(f"DTM format {format_code!r} is not supported (use 102 CCYYMMDD or 203).",
                           code="edi_qualifier_unknown")
    try:
        return qualifier, dt.datetime.strptime(value, formats[format_code]).date()
    except ValueError as exc:
        raise EdiRejection(f"DTM+{qualifier} value {value!r} is not a date in format {format_code}.",
                           code="edi_date_invalid") from exc


def _item_id(code: str, kind: str) -> ItemId:
    if kind not in ITEM_ID_TYPES:
        raise EdiRejection(f"Item number type {kind!r} for {code!r} is not one we understand "
                           f"(expected one of {', '.join(sorted(ITEM_ID_TYPES))}).", code="edi_qualifier_unknown")
    return ItemId(code, kind)


class _Reader:
    """Walks the body once, keeping the line being read."""

    def __init__(self, message: Message) -> None:
        self.document = OrdersDocument(message_reference=message.reference)
        self.line: OrdersLine | None = None

    def close_line(self) -> None:
        if self.line is not None:
            if self.line.quantity is None:
                raise EdiRejection(f"Line {self.line.line_number} has no QTY+21 (ordered quantity).",
                                   code="edi_quantity_missing")
            self.document.lines.append(self.line)
            self.line = None

    def read(self, segment: Segment) -> None:
        tag = segment.tag
        if tag == "BGM":
            self._bgm(segment)
        elif tag == "DTM":
            qualifier, date = _date(segment)
            if self.line is not None and qualifier == "2":
                self.line = replace(self.line, delivery_date=date)
            elif qualifier == "137":
                self.document.document_date = date
            elif qualifier == "2":
                self.document.delivery_date = date
        elif tag == "NAD":
            self._nad(segment)
        elif tag == "CUX":
            self.document.currency = element(segment, 0, 1)
        elif tag == "LIN":
            self.close_line()
            code, kind = element(segment, 2, 0), element(segment, 2, 1)
            self.line = OrdersLine(element(segment, 0), (_item_id(code, kind),) if code else ())
        elif tag == "PIA":
            self._pia(segment)
        elif tag == "QTY":
            self._qty(segment)
        elif tag == "PRI":
            self._pri(segment)
        elif tag not in _IGNORED:
            raise EdiRejection(f"Segment {tag} is not part of the ORDERS subset we read.", code="edi_segment_unknown")

    def _bgm(self, segment: Segment) -> None:
        if element(segment, 0, 0) not in ORDER_DOCUMENT_CODES:
            raise EdiRejection(f"BGM document code {element(segment, 0, 0)!r} is not an order (220 or 105).",
                               code="edi_qualifier_unknown")
        self.document.number = element(segment, 1, 0)

    def _nad(self, segment: Segment) -> None:
        qualifier = element(segment, 0)
        if qualifier not in PARTY_QUALIFIERS:
            raise EdiRejection(f"NAD party qualifier {qualifier!r} is not one we understand "
                               f"(expected one of {', '.join(sorted(PARTY_QUALIFIERS))}).",
                               code="edi_qualifier_unknown")
        self.document.parties[qualifier] = element(segment, 1, 0)

    def _current_line(self, tag: str) -> OrdersLine:
        if self.line is None:
            raise EdiRejection(f"{tag} appears before any LIN.", code="edi_segment_misplaced")
        return self.line

    def _pia(self, segment: Segment) -> None:
        line = self._current_line("PIA")
        extra = tuple(_item_id(element(segment, i, 0), element(segment, i, 1))
                      for i in range(1, len(segment.elements)) if element(segment, i, 0))
        self.line = replace(line, item_ids=line.item_ids + extra)

    def _qty(self, segment: Segment) -> None:
        line = self._current_line("QTY")
        if element(segment, 0, 0) != "21":
            raise EdiRejection(f"QTY qualifier {element(segment, 0, 0)!r} is not one we understand "
                               "(expected 21, ordered quantity).", code="edi_qualifier_unknown")
        quantity = _number(element(segment, 0, 1), f"Line {line.line_number} quantity")
        self.line = replace(line, quantity=quantity, unit=element(segment, 0, 2) or None)

    def _pri(self, segment: Segment) -> None:
        line = self._current_line("PRI")
        if element(segment, 0, 0) not in {"AAA", "AAB"}:
            raise EdiRejection(f"PRI qualifier {element(segment, 0, 0)!r} is not one we understand "
                               "(expected AAA net or AAB gross price).", code="edi_qualifier_unknown")
        self.line = replace(line, price=_number(element(segment, 0, 1), f"Line {line.line_number} price"))


def order_number_of(message: Message) -> str:
    """The BGM document number, or the message reference when the message has none (for a rejection)."""
    return next((element(s, 1, 0) for s in message.body if s.tag == "BGM" and element(s, 1, 0)), message.reference)


def read_orders(message: Message) -> OrdersDocument:
    """The order an ORDERS message states, or :class:`EdiRejection` with the reason."""
    if message.type != "ORDERS":
        raise EdiRejection(f"Message type {message.type} is not accepted inbound (only ORDERS).",
                           code="edi_message_type_unsupported")
    if message.directory not in SUPPORTED_DIRECTORIES:
        raise EdiRejection(f"Directory {message.version}:{message.release} is not supported (D:96A or D:01B).",
                           code="edi_directory_unsupported")
    reader = _Reader(message)
    for segment in message.body:
        reader.read(segment)
    reader.close_line()
    document = reader.document
    if not document.number:
        raise EdiRejection("BGM carries no order number.", code="edi_order_number_missing")
    if not document.lines:
        raise EdiRejection("The order has no LIN lines.", code="edi_lines_missing")
    return document
