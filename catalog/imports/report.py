"""The problem report as a CSV file that is safe to open in a spreadsheet.

A cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) would be run as a formula by
Excel and LibreOffice; such cells are written with a leading apostrophe, which makes them plain text
(OWASP "CSV injection"). Problem messages quote the uploaded values, so this matters.
"""

import csv
import io
from collections.abc import Iterable, Mapping

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
REPORT_COLUMNS = ("row", "column", "code", "message")


def spreadsheet_safe(value: object) -> str:
    """The cell as text that a spreadsheet shows and never evaluates."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def problems_csv(problems: Iterable[Mapping[str, object]]) -> str:
    """The report's problems as CSV (UTF-8 with BOM, so Excel reads Chinese text right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    for problem in problems:
        writer.writerow([spreadsheet_safe(problem.get(column)) for column in REPORT_COLUMNS])
    return "\ufeff" + buffer.getvalue()
