"""Reading an uploaded file into a header and rows of text, refusing what cannot be read for certain.

CSV comes as UTF-8 (with or without BOM) or GB18030, the encoding of Chinese Excel exports. The encoding is
detected, never guessed: a BOM or a strictly valid UTF-8 body is UTF-8; otherwise the body must decode as
GB18030 *and* read as Chinese text (Han characters, nearly all from the common GB2312 set, no control or
private-use characters), else the file is refused with a request to save it as UTF-8. A caller may
also name the encoding.

XLSX is read with openpyxl in read-only (streaming) mode. Formula cells are never evaluated: their formula
text is the cell's value. Every cell becomes text here (numbers through ``str``, dates as ISO dates), so CSV
and XLSX rows are validated by one code path.
"""

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from xml.etree.ElementTree import ParseError

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from catalog.imports.errors import UnreadableFile

MAX_ROWS = 20_000
MAX_COLUMNS = 64
MAX_CELL_CHARS = 2_000
GB2312_SHARE = 0.95
_UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_BOMS = (b"\xff\xfe", b"\xfe\xff")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


class FileFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


class Encoding(StrEnum):
    UTF8 = "utf-8"
    UTF8_BOM = "utf-8-sig"
    GB18030 = "gb18030"


@dataclass(frozen=True, slots=True)
class Sheet:
    """The header (column names, trimmed) and the data rows of a file; ``encoding`` is None for XLSX."""

    header: tuple[str, ...]
    rows: list[tuple[str, ...]]
    encoding: Encoding | None


def _suspicious(text: str) -> bool:
    """Control or private-use characters: what a wrong decoding of binary or Latin-1 bytes produces."""
    return any(
        unicodedata.category(char) in ("Cc", "Co", "Cs") and char not in "\t\r\n" for char in text
    )


def _in_gb2312(char: str) -> bool:
    """True for characters of the GB2312 core (both bytes 0xA1–0xFE): the bulk of any real Chinese text."""
    encoded = char.encode("gb18030")
    return len(encoded) == 2 and encoded[0] >= 0xA1 and encoded[1] >= 0xA1


def _reads_as_chinese(text: str) -> bool:
    """Latin-1 or mixed-up bytes also decode as GB18030, but mostly to rare characters outside GB2312."""
    wide = [char for char in text if ord(char) > 0x7F]
    if not wide or not _HAN.search(text) or _suspicious(text):
        return False
    return sum(map(_in_gb2312, wide)) >= GB2312_SHARE * len(wide)


def detect_encoding(content: bytes) -> Encoding:
    """The encoding of a CSV body, or ``UnreadableFile`` when it is not certainly UTF-8 or GB18030."""
    if content.startswith(_UTF8_BOM):
        return Encoding.UTF8_BOM
    if content.startswith(_OTHER_BOMS):
        raise UnreadableFile("The file is UTF-16; save it as CSV UTF-8.", code="catalog.import_encoding")
    try:
        content.decode("utf-8")
        return Encoding.UTF8
    except UnicodeDecodeError:
        pass
    try:
        text = content.decode("gb18030")
    except UnicodeDecodeError:
        text = ""
    if _reads_as_chinese(text):
        return Encoding.GB18030
    raise UnreadableFile(
        "The file is neither UTF-8 nor GB18030 text; save it as CSV UTF-8 and upload it again.",
        code="catalog.import_encoding",
    )


def decode(content: bytes, encoding: Encoding | None) -> tuple[str, Encoding]:
    """The text of a CSV body in the named encoding, or in the detected one."""
    chosen = encoding or detect_encoding(content)
    try:
        text = content.decode(chosen.value)
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"The file is not valid {chosen.value}: byte {exc.start} cannot be decoded.",
                             code="catalog.import_encoding") from exc
    if _suspicious(text):
        raise UnreadableFile("The file contains control characters; is it really a CSV text file?",
                             code="catalog.import_encoding")
    return text, chosen


def _checked(rows: Iterator[list[str]]) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    header = next(rows, None)
    if header is None or not any(cell.strip() for cell in header):
        raise UnreadableFile("The file is empty: the first row must name the columns.",
                             code="catalog.import_empty")
    if len(header) > MAX_COLUMNS:
        raise UnreadableFile(f"The file has {len(header)} columns; at most {MAX_COLUMNS} are read.",
                             code="catalog.import_too_wide")
    data: list[tuple[str, ...]] = []
    for row in rows:
        if not any(cell.strip() for cell in row):
            continue  # blank lines (often at the end of Excel exports) are not rows
        if len(data) == MAX_ROWS:
            raise UnreadableFile(f"The file has more than {MAX_ROWS} rows; split it into several files.",
                                 code="catalog.import_too_many_rows")
        if any(len(cell) > MAX_CELL_CHARS for cell in row):
            raise UnreadableFile(f"Row {len(data) + 2} has a cell longer than {MAX_CELL_CHARS} characters.",
                                 code="catalog.import_cell_too_long")
        data.append(tuple(row))
    return tuple(cell.strip() for cell in header), data


def read_csv(content: bytes, encoding: Encoding | None = None) -> Sheet:
    """Header and rows of a CSV file (comma separated, RFC 4180 quoting)."""
    text, chosen = decode(content, encoding)
    try:
        header, rows = _checked(iter(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))))
    except csv.Error as exc:
        raise UnreadableFile(f"The CSV cannot be parsed: {exc}.", code="catalog.import_malformed") from exc
    return Sheet(header, rows, chosen)


def cell_text(value: object) -> str:
    """The text of an XLSX cell: numbers without float noise, dates as ISO dates, formulas as their text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _xlsx_rows(content: bytes) -> Iterator[list[str]]:
    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True):
            cells = [cell_text(value) for value in values]
            while cells and not cells[-1]:
                cells.pop()  # read-only mode pads rows to max_col
            yield cells
    finally:
        workbook.close()


def read_xlsx(content: bytes) -> Sheet:
    """Header and rows of the first worksheet of an XLSX workbook."""
    try:
        header, rows = _checked(_xlsx_rows(content))
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ParseError, IndexError, EOFError) as exc:
        raise UnreadableFile("The file is not a readable XLSX workbook (is it .xls, or damaged?).",
                             code="catalog.import_malformed") from exc
    return Sheet(header, rows, None)


def read_sheet(content: bytes, file_format: FileFormat, encoding: Encoding | None = None) -> Sheet:
    """Header and rows of an uploaded file in either format."""
    if file_format is FileFormat.XLSX:
        return read_xlsx(content)
    return read_csv(content, encoding)
