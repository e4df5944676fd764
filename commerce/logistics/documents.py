"""Shipping documents as PDF (reportlab, with the CJK font the ledger's label sheets use): the packing list
(what is in which package, batch and serial) and the delivery note (what is delivered against which order
line, with space for the receiver's signature)."""

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from ledger.identifiers.labels import cjk_font_name

MARGIN = 18 * mm
ROW = 6 * mm


@dataclass(frozen=True)
class DocumentHeader:
    title: str
    number: str
    facts: Sequence[tuple[str, str]]  # (label, value) lines under the title


def table_pdf(header: DocumentHeader, columns: Sequence[tuple[str, float]], rows: Sequence[Sequence[str]],
              footer: Sequence[str] = ()) -> bytes:
    """One A4 document: title, facts, a table (column title and width in mm) over as many pages as needed."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=0)
    canvas.setTitle(f"{header.title} {header.number}")
    font = cjk_font_name()
    y = _heading(canvas, header, font)
    y = _row(canvas, [title for title, _ in columns], columns, y, font, bold=True)
    for row in rows:
        if y < MARGIN + 3 * ROW:
            canvas.showPage()
            y = _row(canvas, [title for title, _ in columns], columns, A4[1] - MARGIN, font, bold=True)
        y = _row(canvas, row, columns, y, font)
    canvas.setFont(font, 9)
    for line in footer:
        y -= ROW * 1.5
        canvas.drawString(MARGIN, y, line)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _heading(canvas: Canvas, header: DocumentHeader, font: str) -> float:
    y = A4[1] - MARGIN
    canvas.setFont(font, 16)
    canvas.drawString(MARGIN, y, f"{header.title}  {header.number}")
    canvas.setFont(font, 9)
    for label, value in header.facts:
        y -= ROW
        canvas.drawString(MARGIN, y, f"{label}: {value}")
    return y - ROW * 1.5


def _row(canvas: Canvas, cells: Sequence[str], columns: Sequence[tuple[str, float]], y: float, font: str,
         bold: bool = False) -> float:
    canvas.setFont(font, 9 if bold else 8.5)
    x = MARGIN
    for cell, (_, width) in zip(cells, columns, strict=True):
        canvas.drawString(x, y, _fit(cell, width))
        x += width * mm
    if bold:
        canvas.line(MARGIN, y - 1.5 * mm, A4[0] - MARGIN, y - 1.5 * mm)
    return y - ROW


def _fit(text: str, width_mm: float) -> str:
    """Cut a cell to its column (about 2 mm a character; CJK characters count double)."""
    room, kept = width_mm / 2, ""
    for char in text:
        room -= 2 if ord(char) > 0x2E80 else 1
        if room < 0:
            return kept + "…"
        kept += char
    return kept
