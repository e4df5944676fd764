"""The bodies of the messages we send (ORDRSP, DESADV, INVOIC, CONTRL), built from plain facts, without I/O.

Builders take :class:`OrderFacts`, not ORM rows, so that a shipment (logistics) or an invoice (settlement)
can feed the same builders when those modules publish their documents. Items are named by our material
code (``MP``) and, where the material has one, its GTIN (``PIA+5``); amounts are plain decimals.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

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
    tax_rate: str
    net: Decimal
    tax: Decimal
    confirmed_quantity: Decimal | None
    confirmed_date: dt.date | None


@dataclass(frozen=True)
class OrderFacts:
    number: str
    partner_order_number: str  # BGM of the partner's ORDERS: what their ERP knows the order by
    status: str
    currency: str
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal
    buyer_uscc: str
    supplier_uscc: str
    lines: tuple[LineFacts, ...]


def _amount(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _date(tag_qualifier: str, day: dt.date) -> Segment:
    return Segment("DTM", [tag_qualifier, day.strftime("%Y%m%d"), "102"])


def _header(document_code: str, number: str, facts: OrderFacts, today: dt.date) -> list[Segment]:
    return [
        Segment("BGM", document_code, number, "9"),
        _date("137", today),
        Segment("RFF", ["ON", facts.partner_order_number]),
        Segment("NAD", "BY", [facts.buyer_uscc, "", "ZZZ"]),
        Segment("NAD", "SU", [facts.supplier_uscc, "", "ZZZ"]),
        Segment("CUX", ["2", facts.currency, "9"]),
    ]


def _item(line: LineFacts, action: str = "") -> list[Segment]:
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


def despatch_advice(facts: OrderFacts, today: dt.date) -> list[Segment]:
    """DESADV for the whole order as shipped: each line's confirmed quantity in one consignment."""
    body = _header("351", f"DES-{facts.number}", facts, today)
    body.insert(2, _date("11", today))
    body.append(Segment("CPS", "1"))
    for line in facts.lines:
        body += _item(line)
        body.append(Segment("QTY", ["12", _amount(_confirmed(line)), line.unit]))
    return [*body, Segment("CNT", ["2", str(len(facts.lines))])]


def invoice(facts: OrderFacts, today: dt.date) -> list[Segment]:
    """INVOIC with VAT per line (TAX+7) and totals: MOA 79 net, 124 tax, 77 gross."""
    body = _header("380", f"INV-{facts.number}", facts, today)
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
