"""The SRM export without I/O: columns, plain numbers, and names that a spreadsheet must not run as formulas."""

import csv
import io
import uuid
from decimal import Decimal

from openpyxl import load_workbook

from commerce.supplier_performance import export, scoring
from commerce.supplier_performance.service import ScorecardRow

EVIL = "=HYPERLINK(\"http://evil.example\",\"click\")"


def _row() -> ScorecardRow:
    own = scoring.score({"on_time": (Decimal(3), 4), "confirmation_hours": (Decimal(10), 4)})
    return ScorecardRow(uuid.UUID(int=5), "宁波精密", EVIL, own, scoring.neutral())


def test_csv_has_one_row_per_supplier_and_defuses_formulas() -> None:
    table = list(csv.DictReader(io.StringIO(export.to_csv([_row()]).decode("utf-8-sig"))))
    assert list(table[0]) == list(export.COLUMNS)
    row = table[0]
    assert (row["supplier_name_en"], row["supplier_name_zh"]) == ("'" + EVIL, "宁波精密")
    assert (row["score"], row["on_time_rate"], row["on_time_events"], row["quality_rate"]) == ("54.3", "0.75", "4", "")
    assert (row["platform_score"], row["average_confirmation_hours"]) == ("50", "2.5")


def test_xlsx_keeps_numbers_as_numbers_and_names_as_text() -> None:
    sheet = load_workbook(io.BytesIO(export.to_xlsx([_row()])))["scorecards"]
    header = [cell.value for cell in sheet[1]]
    values = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    assert (values["supplier_name_en"].value, values["supplier_name_en"].data_type) == ("'" + EVIL, "s")
    assert (values["score"].value, values["on_time_events"].value) == (54.3, 4)
