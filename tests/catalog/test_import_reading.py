"""Reading uploaded files: encodings detected (never guessed), XLSX streamed, formulas kept as text."""

import datetime as dt
import io

import pytest
from openpyxl import Workbook

from catalog.imports.errors import UnreadableFile
from catalog.imports.reading import MAX_ROWS, Encoding, FileFormat, cell_text, read_sheet
from catalog.imports.report import problems_csv, spreadsheet_safe

HEADER = "class_code,name_zh,name_en,base_unit\n"
ROW = "100101,不锈钢六角螺栓,Hex bolt,H87\n"


def xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class TestCsvEncodings:
    def test_utf8_without_bom(self) -> None:
        sheet = read_sheet((HEADER + ROW).encode("utf-8"), FileFormat.CSV)
        assert (sheet.encoding, sheet.header, sheet.rows) == (
            Encoding.UTF8, ("class_code", "name_zh", "name_en", "base_unit"),
            [("100101", "不锈钢六角螺栓", "Hex bolt", "H87")])

    def test_utf8_with_bom_keeps_the_first_column_name_clean(self) -> None:
        sheet = read_sheet(b"\xef\xbb\xbf" + (HEADER + ROW).encode("utf-8"), FileFormat.CSV)
        assert (sheet.encoding, sheet.header[0]) == (Encoding.UTF8_BOM, "class_code")

    def test_gb18030_is_detected_from_chinese_text(self) -> None:
        sheet = read_sheet((HEADER + ROW).encode("gb18030"), FileFormat.CSV)
        assert (sheet.encoding, sheet.rows[0][1]) == (Encoding.GB18030, "不锈钢六角螺栓")

    @pytest.mark.parametrize("body", [
        (HEADER + "100101,Écrou,Écrou café crème,H87\n").encode("latin-1"),
        (HEADER + "100101,螺栓,Bolt,H87\n").encode("utf-8") + b"\xc9crou\n",
    ], ids=["latin1", "utf8-with-a-latin1-byte"])
    def test_text_that_is_not_certainly_chinese_is_refused_not_guessed(self, body: bytes) -> None:
        with pytest.raises(UnreadableFile) as refused:
            read_sheet(body, FileFormat.CSV)
        assert refused.value.code == "catalog.import_encoding"

    def test_utf16_is_refused_with_advice(self) -> None:
        with pytest.raises(UnreadableFile) as refused:
            read_sheet((HEADER + ROW).encode("utf-16"), FileFormat.CSV)
        assert refused.value.message == "The file is UTF-16; save it as CSV UTF-8."

    def test_a_named_encoding_that_does_not_fit_is_refused(self) -> None:
        with pytest.raises(UnreadableFile) as refused:
            read_sheet((HEADER + ROW).encode("gb18030"), FileFormat.CSV, Encoding.UTF8)
        assert refused.value.code == "catalog.import_encoding"

    def test_binary_noise_is_refused(self) -> None:
        with pytest.raises(UnreadableFile):
            read_sheet(bytes(range(256)) * 4, FileFormat.CSV)


class TestLimitsAndShape:
    def test_an_empty_file_is_refused(self) -> None:
        with pytest.raises(UnreadableFile) as refused:
            read_sheet(b"", FileFormat.CSV)
        assert refused.value.code == "catalog.import_empty"

    def test_blank_lines_are_not_rows(self) -> None:
        sheet = read_sheet((HEADER + ROW + ",,,\n\n").encode(), FileFormat.CSV)
        assert len(sheet.rows) == 1

    def test_more_rows_than_the_limit_are_refused(self) -> None:
        with pytest.raises(UnreadableFile) as refused:
            read_sheet((HEADER + ROW * (MAX_ROWS + 1)).encode(), FileFormat.CSV)
        assert refused.value.code == "catalog.import_too_many_rows"


class TestXlsx:
    def test_cells_become_text_and_formulas_are_not_evaluated(self) -> None:
        content = xlsx([["class_code", "name_zh", "moq", "valid_from", "flag"],
                        [100101, "=HYPERLINK(\"http://evil\")", 12.5, dt.datetime(2026, 1, 2), True]])
        sheet = read_sheet(content, FileFormat.XLSX)
        assert sheet.rows == [("100101", "=HYPERLINK(\"http://evil\")", "12.5", "2026-01-02", "true")]
        assert sheet.encoding is None

    def test_a_broken_workbook_is_refused(self) -> None:
        content = xlsx([["class_code"], ["100101"]])
        with pytest.raises(UnreadableFile) as refused:
            read_sheet(content[: len(content) // 2], FileFormat.XLSX)
        assert refused.value.code == "catalog.import_malformed"

    def test_a_csv_uploaded_as_xlsx_is_refused(self) -> None:
        with pytest.raises(UnreadableFile) as refused:
            read_sheet((HEADER + ROW).encode(), FileFormat.XLSX)
        assert refused.value.code == "catalog.import_malformed"

    def test_cell_text_keeps_numbers_exact(self) -> None:
        assert [cell_text(v) for v in (None, 3.0, 0.1, 7, dt.date(2026, 5, 1))] == ["", "3", "0.1", "7", "2026-05-01"]


class TestReportEscaping:
    @pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\r=x"])
    def test_formula_triggers_are_escaped(self, cell: str) -> None:
        assert spreadsheet_safe(cell) == "'" + cell

    def test_the_report_csv_escapes_quoted_values(self) -> None:
        csv_text = problems_csv([{"row": 3, "column": "name_zh", "code": "too_long", "message": "=cmd|' /C calc'!A0"}])
        assert csv_text == "\ufeffrow,column,code,message\r\n3,name_zh,too_long,'=cmd|' /C calc'!A0\r\n"
