"""Bank statement files to plain credit lines: CSV (our documented columns) and ISO 20022 camt.053.

Parsing is pure (no I/O); only credit entries (money received) are returned. XML is read with ``defusedxml``
(no entity expansion, no external DTDs), and files are capped in size and line count, so a hostile file is
a 422, never a hang.
"""

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from tradeloom.errors import Invalid

MAX_BYTES = 2_000_000
MAX_LINES = 5_000
CSV_COLUMNS = ("bank_ref", "booking_date", "amount", "currency", "remittance", "payer_name")


@dataclass(frozen=True)
class StatementCredit:
    bank_ref: str
    booking_date: dt.date
    amount: Decimal
    currency: str
    remittance: str
    payer_name: str


def _refuse(detail: str, errors: Sequence[dict[str, str]] = ()) -> Invalid:
    return Invalid(f"The bank statement cannot be read: {detail}", code="statement_invalid", errors=errors)


def _credit(where: str, bank_ref: str, booking_date: str, amount: str, currency: str, remittance: str,
            payer_name: str) -> StatementCredit:
    try:
        value = Decimal(amount.strip())
        day = dt.date.fromisoformat(booking_date.strip()[:10])
    except (InvalidOperation, ValueError) as exc:
        raise _refuse(f"{where}: bad amount or date", [{"loc": where, "detail": str(exc)}]) from None
    currency = currency.strip().upper()
    if not bank_ref.strip() or value <= 0 or value != value.quantize(Decimal("0.01")) or len(currency) != 3:
        raise _refuse(f"{where}: a line needs a bank reference, a positive amount in cents and a currency",
                      [{"loc": where, "detail": "invalid line"}])
    return StatementCredit(bank_ref.strip()[:64], day, value, currency, remittance.strip()[:300],
                           payer_name.strip()[:200])


def _check_size(content: bytes) -> None:
    if len(content) > MAX_BYTES:
        raise _refuse(f"the file is larger than {MAX_BYTES // 1_000_000} MB")


def parse_csv(content: bytes) -> list[StatementCredit]:
    """UTF-8 CSV with a header row naming ``CSV_COLUMNS`` (``payer_name`` optional); one credit per row."""
    _check_size(content)
    try:
        rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _refuse(str(exc)) from None
    if not rows or not set(CSV_COLUMNS[:5]) <= set(rows[0]):
        raise _refuse(f"the header must name {', '.join(CSV_COLUMNS)}")
    if len(rows) > MAX_LINES:
        raise _refuse(f"more than {MAX_LINES} lines")
    return [_credit(f"line {n}", *((row.get(column) or "") for column in CSV_COLUMNS))
            for n, row in enumerate(rows, start=2)]


def _local(element: Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _find(element: Element, *path: str) -> Element | None:
    """The first descendant along ``path`` of local names (namespace versions of camt.053 differ)."""
    current: Element | None = element
    for name in path:
        current = next((child for child in current.iter() if child is not current and _local(child) == name), None) \
            if current is not None else None
    return current


def _text(element: Element, *path: str) -> str:
    found = _find(element, *path)
    return (found.text or "") if found is not None else ""


def parse_camt053(content: bytes) -> list[StatementCredit]:
    """ISO 20022 BkToCstmrStmt: each ``Ntry`` with ``CdtDbtInd`` CRDT becomes a credit (mapping in the docs)."""
    _check_size(content)
    try:
        root = fromstring(content, forbid_dtd=True)
    except (ParseError, DefusedXmlException) as exc:
        raise _refuse(f"not well-formed or unsafe XML ({exc.__class__.__name__})") from None
    entries = [element for element in root.iter() if _local(element) == "Ntry"]
    if _find(root, "BkToCstmrStmt") is None and _local(root) != "BkToCstmrStmt":
        raise _refuse("not a camt.053 statement (no BkToCstmrStmt)")
    if len(entries) > MAX_LINES:
        raise _refuse(f"more than {MAX_LINES} entries")
    credits = []
    for n, entry in enumerate(entries, start=1):
        if _text(entry, "CdtDbtInd") != "CRDT":
            continue
        amount = _find(entry, "Amt")
        reference = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef") or _text(entry, "EndToEndId")
        remittance = _text(entry, "RmtInf", "Ustrd") or _text(entry, "RmtInf", "Ref")
        payer = _text(entry, "Dbtr", "Nm")
        booked = _text(entry, "BookgDt", "Dt") or _text(entry, "BookgDt", "DtTm")
        value, currency = (amount.text or "", amount.get("Ccy", "")) if amount is not None else ("", "")
        credits.append(_credit(f"entry {n}", reference, booked, value, currency, remittance, payer))
    return credits
