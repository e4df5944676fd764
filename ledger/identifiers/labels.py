"""Label sheets: A4 PDF, 3 × 7 labels, each with its QR code, title and handle (reportlab).

Chinese text needs a CJK font. Debian's Noto CJK fonts are OpenType/CFF, which reportlab cannot embed, so
a TrueType CJK font is used when one is installed; otherwise the standard Adobe CID font STSong-Light
(reportlab ships its metrics; PDF viewers supply the glyphs), so a sheet is always produced.
"""

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas

from ledger.identifiers.qr import qr_code

COLUMNS, ROWS = 3, 7
LABEL_WIDTH, LABEL_HEIGHT = A4[0] / COLUMNS, A4[1] / ROWS
QR_SIZE = 30 * mm
TRUETYPE_CJK_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
)
CID_FALLBACK = "STSong-Light"


@dataclass(frozen=True)
class Label:
    """One label: the QR content, a title (may be Chinese), the handle and a few short lines."""

    qr_content: str
    title: str
    handle: str
    lines: Sequence[str] = field(default_factory=tuple)


@cache
def cjk_font_name() -> str:
    """Register and name the best CJK font available here (see the module docstring)."""
    for path in TRUETYPE_CJK_FONTS:
        if path.exists():
            try:
                pdfmetrics.registerFont(TTFont("LabelCJK", str(path)))
            except TTFError:
                continue
            return "LabelCJK"
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FALLBACK))
    return CID_FALLBACK


def labels_pdf(labels: Sequence[Label]) -> bytes:
    """A printable sheet (as many A4 pages as needed) of the given labels."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=0)
    canvas.setTitle("Tradeloom labels")
    font = cjk_font_name()
    per_page = COLUMNS * ROWS
    for position, label in enumerate(labels):
        if position and position % per_page == 0:
            canvas.showPage()
        slot = position % per_page
        x = (slot % COLUMNS) * LABEL_WIDTH
        y = A4[1] - (slot // COLUMNS + 1) * LABEL_HEIGHT
        _draw_label(canvas, label, x, y, font)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_label(canvas: Canvas, label: Label, x: float, y: float, font: str) -> None:
    _draw_qr(canvas, label.qr_content, x + 3 * mm, y + (LABEL_HEIGHT - QR_SIZE) / 2)
    text_x = x + 3 * mm + QR_SIZE + 2 * mm
    text_top = y + LABEL_HEIGHT - 8 * mm
    canvas.setFont(font, 8)
    canvas.drawString(text_x, text_top, label.title[:18])
    canvas.setFont("Helvetica", 5.5)
    for line_no, line in enumerate((label.handle, *label.lines)):
        canvas.drawString(text_x, text_top - (line_no + 1) * 3.2 * mm, line[:34])


def _draw_qr(canvas: Canvas, content: str, x: float, y: float) -> None:
    """Draw the modules as filled squares: vector output, no image library involved."""
    matrix = [list(row) for row in qr_code(content).matrix_iter(border=4)]
    module = QR_SIZE / len(matrix)
    canvas.setFillColorRGB(0, 0, 0)
    for row_no, row in enumerate(matrix):
        for col_no, dark in enumerate(row):
            if dark:
                canvas.rect(x + col_no * module, y + QR_SIZE - (row_no + 1) * module, module, module,
                            stroke=0, fill=1)
