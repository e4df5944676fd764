"""The SRM scorecard export: one row per supplier, as CSV (UTF-8 with BOM, for spreadsheet tools) or XLSX."""

import csv
import io
from collections.abc import Sequence
from decimal import Decimal

from openpyxl import Workbook

from commerce.supplier_performance.scoring import WEIGHTS
from commerce.supplier_performance.service import ScorecardRow

COLUMNS = ("supplier_org_id", "supplier_name_en", "supplier_name_zh", "score", "stars", "platform_score",
           "platform_stars", *(f"{name}_rate" for name in WEIGHTS), *(f"{name}_events" for name in WEIGHTS),
           "average_confirmation_hours", "average_review_stars")
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cells(row: ScorecardRow) -> list[object]:
    own = row.own
    rates = [metric.rate for metric in own.metrics]
    events = [metric.observations for metric in own.metrics]
    return [str(row.supplier_org_id), row.supplier_name_en, row.supplier_name_zh, own.score, own.stars,
            row.platform.score, row.platform.stars, *rates, *events, own.average_confirmation_hours,
            own.average_review_stars]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    # a leading =, +, - or @ would be a formula in a spreadsheet (CSV injection): quote it as text
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def to_csv(rows: Sequence[ScorecardRow]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_text(cell) for cell in _cells(row)])
    return ("\ufeff" + out.getvalue()).encode()


def to_xlsx(rows: Sequence[ScorecardRow]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("scorecards")
    sheet.append(list(COLUMNS))
    for row in rows:
        # numbers stay numbers; names are written as plain strings (openpyxl stores them as text, not formulas)
        sheet.append([float(cell) if isinstance(cell, Decimal) else _text(cell) if isinstance(cell, str) else cell
                      for cell in _cells(row)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
