"""A statement as an XLSX workbook (openpyxl) and as a printable document / PDF (WeasyPrint, like contracts)."""

import io
from collections.abc import Callable
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font
from weasyprint import HTML

from commerce.settlement.account_statements.service import Statement, StatementStatus
from tradeloom.web.labels import N_
from tradeloom.web.templating import environment

Gettext = Callable[[str], str]
MONEY_FORMAT = "#,##0.00"
CATEGORY_LABELS = {
    "invoice": N_("Invoice"), "debit_note": N_("Debit note"), "credit_note": N_("Credit note"),
    "reversal": N_("Reversal"), "payment": N_("Payment"), "refund": N_("Refund"), "assignment": N_("Assignment"),
    "other": N_("Other"),
}
STATUS_LABELS = {
    StatementStatus.OPEN: N_("Not confirmed"), StatementStatus.AWAITING_COUNTERPARTY: N_("Awaiting counterparty"),
    StatementStatus.AGREED: N_("Agreed"), StatementStatus.DISPUTED: N_("Disputed"),
}


def _header(statement: Statement, names: tuple[str, str], _: Gettext) -> list[tuple[str, str]]:
    key = statement.key
    return [(_("Supplier"), names[0]), (_("Buyer"), names[1]), (_("Currency"), key.currency),
            (_("Period"), f"{key.period_start.isoformat()} – {key.period_end.isoformat()}"),
            (_("Status"), _(STATUS_LABELS[statement.status])), (_("Digest"), statement.digest)]


def statement_xlsx(statement: Statement, names: tuple[str, str], _: Gettext) -> bytes:
    """One sheet: the header facts, opening balance, one row per line with the running balance, closing balance."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Statement")[:31]
    for label, value in _header(statement, names, _):
        sheet.append([label, value])
    sheet.append([])
    columns = [_("Posted"), _("Category"), _("Fapiao number"), _("Reference"), _("Increase"), _("Decrease"),
               _("Balance")]
    sheet.append(columns)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    sheet.append([_("Opening balance"), "", "", "", None, None, money_cell(statement.opening_balance)])
    for line in statement.lines:
        sheet.append([line.posted_at.replace(tzinfo=None), _(CATEGORY_LABELS[line.category]),
                      line.document, line.reference, money_cell(line.increase), money_cell(line.decrease),
                      money_cell(line.balance)])
    increases, decreases = statement.totals()
    sheet.append([_("Closing balance"), "", "", "", money_cell(increases), money_cell(decreases),
                  money_cell(statement.closing_balance)])
    for row in sheet.iter_rows(min_row=len(_header(statement, names, _)) + 3, min_col=5, max_col=7):
        for cell in row:
            cell.number_format = MONEY_FORMAT
    for column, width in zip("ABCDEFG", (22, 16, 16, 60, 14, 14, 14), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def money_cell(amount: Decimal) -> Decimal:
    """Rounded to the cent for display; openpyxl writes the Decimal as a number cell."""
    return amount.quantize(Decimal("0.01"))


def statement_html(statement: Statement, names: tuple[str, str], _: Gettext, locale: str) -> str:
    return environment.get_template("account_statements/document.html").render(
        statement=statement, header=_header(statement, names, _), totals=statement.totals(), _=_, locale=locale,
        category_label=CATEGORY_LABELS.__getitem__,
        lang_html="zh-CN" if locale == "zh_CN" else "en")


def statement_pdf(html: str) -> bytes:
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
