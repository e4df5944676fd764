"""The bodies of the messages we send (ORDRSP, DESADV, INVOIC, CONTRL), built from plain facts, without I/O.

ORDRSP is built from the order (:class:`OrderFacts`), DESADV from one dispatched shipment
(:class:`DespatchFacts`) and INVOIC from one issued invoice (:class:`InvoiceFacts`). Items are named by our
material code (``MP``) and, where the material has one, its GTIN (``PIA+5``); amounts are plain decimals.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from pydifact.segments import Segment

from integrations.edi.syntax import EdiSyntaxError, Envelope


@dataclass(frozen=True)
class LineFacts:
    line_no: int
    material_code: str
    gtin: str | None
    quantity: Decimal
    unit: str
    unit_price: Decimal
    confirmed_quantity: Decimal | None
    confirmed_date: dt.date | None


@dataclass(frozen=True)
class OrderFacts:
    number: str
    partner_order_number: str  # BGM of the partner's ORDERS: what their ERP knows the order by
    currency: str
    buyer_uscc: str
    supplier_uscc: str
    lines: tuple[LineFacts, ...]


class Parties(Protocol):
    """What every message header names: the partner's order, the two parties and the currency."""

    @property
    def partner_order_number(self) -> str: ...
    @property
    def buyer_uscc(self) -> str: ...
    @property
    def supplier_uscc(self) -> str: ...
    @property
    def currency(self) -> str: ...


@dataclass(frozen=True)
class PickedFacts:
    """A batch or a serial of a line as packed (an empty batch and serial: the material is not tracked)."""

    batch: str
    serial: str
    quantity: Decimal


@dataclass(frozen=True)
class DespatchLineFacts:
    line_no: int  # the order line's number
    material_code: str
    gtin: str | None
    quantity: Decimal
    unit: str
    picked: tuple[PickedFacts, ...]


@dataclass(frozen=True)
class PackageFacts:
    """A parcel or pallet (``parent`` is the label of the pallet it sits on) and the lines packed in it."""

    label: str
    kind: str  # package | pallet
    parent: str | None
    lines: tuple[DespatchLineFacts, ...]
    sscc: str | None = None  # SSCC-18 (integrations.edi.sscc)


@dataclass(frozen=True)
class DespatchFacts:
    number: str  # the shipment's number
    despatch_date: dt.date
    partner_order_number: str
    buyer_uscc: str
    supplier_uscc: str
    currency: str
    loose: tuple[DespatchLineFacts, ...]  # lines (or parts of lines) not packed in a package
    packages: tuple[PackageFacts, ...]


@dataclass(frozen=True)
class InvoiceLineFacts:
    line_no: int  # the order line's number
    material_code: str
    gtin: str | None
    quantity: Decimal
    unit: str
    unit_price: Decimal
    tax_rate: str
    net: Decimal
    tax: Decimal


@dataclass(frozen=True)
class InvoiceFacts:
    fapiao_number: str
    issue_date: dt.date
    partner_order_number: str
    buyer_uscc: str
    supplier_uscc: str
    currency: str
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal
    lines: tuple[InvoiceLineFacts, ...]
    document_code: str = "380"  # 380 invoice, 381 credit note, 383 debit note
    original_fapiao_number: str | None = None  # a note's invoice (RFF+IV)
    original_issue_date: dt.date | None = None


class _Item(Protocol):
    @property
    def line_no(self) -> int: ...
    @property
    def material_code(self) -> str: ...
    @property
    def gtin(self) -> str | None: ...


def _amount(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _date(tag_qualifier: str, day: dt.date) -> Segment:
    return Segment("DTM", [tag_qualifier, day.strftime("%Y%m%d"), "102"])


def _header(document_code: str, number: str, facts: Parties, today: dt.date) -> list[Segment]:
    return [
        Segment("BGM", document_code, number, "9"),
        _date("137", today),
        Segment("RFF", ["ON", facts.partner_order_number]),
        Segment("NAD", "BY", [facts.buyer_uscc, "", "ZZZ"]),
        Segment("NAD", "SU", [facts.supplier_uscc, "", "ZZZ"]),
        Segment("CUX", ["2", facts.currency, "9"]),
    ]


def _item(line: _Item, action: str = "") -> list[Segment]:
    segments = [Segment("LIN", str(line.line_no), action, [line.material_code, "MP"])]
    if line.gtin:
        segments.append(Segment("PIA", "5", [line.gtin, "EN"]))
    return segments


def _confirmed(line: LineFacts) -> Decimal:
    return line.quantity if line.confirmed_quantity is None else line.confirmed_quantity


def order_response(facts: OrderFacts, today: dt.date) -> list[Segment]:
    """ORDRSP: accepted as ordered (29) or with changes (4); per line the confirmed quantity and date."""
    changed = any(_confirmed(line) != line.quantity for line in facts.lines)
    body = _header("231", facts.number, facts, today)
    body[0] = Segment("BGM", "231", facts.number, "4" if changed else "29")
    for line in facts.lines:
        body += _item(line, "3" if _confirmed(line) != line.quantity else "5")
        body.append(Segment("QTY", ["21", _amount(_confirmed(line)), line.unit]))
        if line.confirmed_date:
            body.append(_date("2", line.confirmed_date))
        body.append(Segment("PRI", ["AAA", _amount(line.unit_price)]))
    return [*body, Segment("UNS", "S"), Segment("CNT", ["2", str(len(facts.lines))])]


def order_rejection(partner_order_number: str, reason: str, today: dt.date) -> list[Segment]:
    """ORDRSP not accepted (BGM message function 27), the reason in FTX+AAO (up to five 70-character parts)."""
    parts = [reason[i:i + 70] for i in range(0, min(len(reason), 350), 70)]
    return [Segment("BGM", "231", partner_order_number, "27"), _date("137", today),
            Segment("RFF", ["ON", partner_order_number]), Segment("FTX", "AAO", "", "", parts)]


def _despatched_lines(lines: Iterable[DespatchLineFacts]) -> list[Segment]:
    """Per line the quantity despatched (QTY+12) and its batches (GIN+BX) and serials (GIN+BN)."""
    body: list[Segment] = []
    for line in lines:
        body += _item(line)
        body.append(Segment("QTY", ["12", _amount(line.quantity), line.unit]))
        for picked in line.picked:
            if picked.batch:
                body += [Segment("PCI", "10"), Segment("QTY", ["12", _amount(picked.quantity), line.unit]),
                         Segment("GIN", "BX", picked.batch)]
            if picked.serial:
                body.append(Segment("GIN", "BN", picked.serial))
    return body


def despatch_advice(facts: DespatchFacts, today: dt.date) -> list[Segment]:
    """DESADV for one shipment: the consignment (CPS+1) with what travels loose, then one CPS per package
    (PAC: CT parcel or PX pallet; PCI+33E with GIN+BJ its SSCC, PCI+24 with GIN+ML its label) with the lines
    packed in it."""
    body = _header("351", facts.number, facts, today)
    body.insert(2, _date("11", facts.despatch_date))
    body += [Segment("CPS", "1"), *_despatched_lines(facts.loose)]
    hierarchy = {package.label: str(index) for index, package in enumerate(facts.packages, start=2)}
    for package in facts.packages:
        parent = hierarchy[package.parent] if package.parent else "1"
        body += [Segment("CPS", hierarchy[package.label], parent),
                 Segment("PAC", "1", "", "PX" if package.kind == "pallet" else "CT")]
        if package.sscc:
            body += [Segment("PCI", "33E"), Segment("GIN", "BJ", package.sscc)]
        body += [Segment("PCI", "24"), Segment("GIN", "ML", package.label), *_despatched_lines(package.lines)]
    line_count = len({line.line_no for group in (facts.loose, *(p.lines for p in facts.packages)) for line in group})
    return [*body, Segment("CNT", ["2", str(line_count)])]


def invoice(facts: InvoiceFacts, today: dt.date) -> list[Segment]:
    """INVOIC for one fapiao: VAT per line (TAX+7) and totals: MOA 79 net, 124 tax, 77 gross. A credit note
    (BGM 381) or debit note (383) names the invoice it corrects (RFF+IV, DTM+171 its date); its amounts are
    what it credits or charges, as positive numbers."""
    body = _header(facts.document_code, facts.fapiao_number, facts, today)
    body.insert(2, _date("3", facts.issue_date))
    if facts.original_fapiao_number:
        reference = [Segment("RFF", ["IV", facts.original_fapiao_number])]
        if facts.original_issue_date:
            reference.append(_date("171", facts.original_issue_date))
        body[4:4] = reference  # SG1 after the order reference, before the parties
    for line in facts.lines:
        body += _item(line)
        body += [
            Segment("QTY", ["47", _amount(line.quantity), line.unit]),
            Segment("MOA", ["203", _amount(line.net)]),
            Segment("PRI", ["AAA", _amount(line.unit_price)]),
            Segment("TAX", "7", "VAT", "", "", ["", "", "", "0" if line.tax_rate == "exempt" else line.tax_rate]),
            Segment("MOA", ["124", _amount(line.tax)]),
        ]
    return [*body, Segment("UNS", "S"), Segment("CNT", ["2", str(len(facts.lines))]),
            Segment("MOA", ["79", _amount(facts.net_total)]), Segment("MOA", ["124", _amount(facts.tax_total)]),
            Segment("MOA", ["77", _amount(facts.gross_total)])]


def syntax_report(error: EdiSyntaxError, envelope: Envelope) -> list[Segment]:
    """CONTRL rejecting an interchange (UCI action 4) and, when one message is at fault, that message (UCM)."""
    sender, recipient = envelope.sender, envelope.recipient
    interchange_error = [] if error.message else [error.code]
    body = [Segment("UCI", envelope.control_reference, [sender.id, sender.qualifier],
                    [recipient.id, recipient.qualifier], "4", *interchange_error)]
    if error.message:
        message_reference, identifier = error.message
        body.append(Segment("UCM", message_reference, [*identifier.split(":"), "UN"], "4", error.code))
    return body
