"""Printable instrument labels as a PDF: one label per instrument on a sheet of a common label size, each with the
instrument's lines of text and a QR code of its certificate's public verification page.

Sheet sizes (the geometry as the makers publish it in their templates; SECONDARY: the figures are from the
manufacturers' public template data as remembered, not re-measured; print a test page on plain paper first):

* ``L7160`` — Avery L7160 / J8160, A4, 3 × 7 labels of 63.5 mm × 38.1 mm (top margin 15.15 mm, left 7.21 mm,
  horizontal pitch 66.04 mm, vertical pitch 38.1 mm);
* ``L7163`` — Avery L7163 / J8163, A4, 2 × 7 labels of 99.1 mm × 38.1 mm (top 15.15 mm, left 4.65 mm,
  horizontal pitch 101.6 mm, vertical pitch 38.1 mm);
* ``62x29`` — Brother DK-11209 die-cut labels, 62 mm × 29 mm, one label per page (label printers).

>>> SHEETS["L7160"].per_page
21
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from reportlab.lib.units import mm


@dataclass(frozen=True, slots=True)
class Sheet:
    """The geometry of a label sheet, in millimetres."""

    name: str
    page: tuple[float, float]
    label: tuple[float, float]
    columns: int
    rows: int
    left: float = 0.0
    top: float = 0.0
    pitch: tuple[float, float] = (0.0, 0.0)

    @property
    def per_page(self) -> int:
        return self.columns * self.rows


A4: Final = (210.0, 297.0)
SHEETS: Final[dict[str, Sheet]] = {
    "L7160": Sheet("Avery L7160 (63.5 × 38.1 mm, 21 per A4)", A4, (63.5, 38.1), 3, 7, 7.21, 15.15, (66.04, 38.1)),
    "L7163": Sheet("Avery L7163 (99.1 × 38.1 mm, 14 per A4)", A4, (99.1, 38.1), 2, 7, 4.65, 15.15, (101.6, 38.1)),
    "62x29": Sheet("Brother DK-11209 (62 × 29 mm, roll)", (62.0, 29.0), (62.0, 29.0), 1, 1, 0.0, 0.0, (62.0, 29.0)),
}


@dataclass(frozen=True, slots=True)
class Label:
    """What one label says: a bold title, lines of text, and the link its QR code holds (``None``: no code)."""

    title: str
    lines: tuple[str, ...]
    link: str | None


def _fit(canvas: object, text: str, font: str, size: float, width: float) -> str:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def render_sheet(labels: Sequence[Label], sheet: Sheet) -> bytes:
    """The labels laid out on as many pages of ``sheet`` as needed, as PDF bytes."""
    from reportlab.pdfgen.canvas import Canvas

    from hengqi.certificates.pdf.fonts import register_cjk_font
    from hengqi.certificates.pdf.qr import draw_on

    font = register_cjk_font()
    out = io.BytesIO()
    page_w, page_h = sheet.page[0] * mm, sheet.page[1] * mm
    canvas = Canvas(out, pagesize=(page_w, page_h), pageCompression=1)
    canvas.setTitle("hengqi instrument labels")
    label_w, label_h = sheet.label[0] * mm, sheet.label[1] * mm
    pad = 1.5 * mm
    for index, label in enumerate(labels):
        slot = index % sheet.per_page
        if index and slot == 0:
            canvas.showPage()
        col, row = slot % sheet.columns, slot // sheet.columns
        x = (sheet.left + col * sheet.pitch[0]) * mm
        y = page_h - (sheet.top + row * sheet.pitch[1]) * mm - label_h
        canvas.setLineWidth(0.2)
        canvas.setStrokeGray(0.7)
        canvas.roundRect(x + 0.3 * mm, y + 0.3 * mm, label_w - 0.6 * mm, label_h - 0.6 * mm, 1.5 * mm)
        qr = 0.0
        if label.link is not None:
            qr = min(label_h - 2 * pad, label_w * 0.36)
            draw_on(canvas, label.link, x + label_w - pad - qr, y + pad, qr)
        text_w = label_w - 2 * pad - (qr + pad if qr else 0)
        lines = [(label.title, True), *((line, False) for line in label.lines)]
        size = min(7.0, (label_h - 2 * pad) / (len(lines) * 1.25 + 0.3))
        cursor = y + label_h - pad - size
        for text, bold in lines:
            canvas.setFont(font, size * (1.1 if bold else 1.0))
            canvas.setFillGray(0)
            canvas.drawString(x + pad, cursor, _fit(canvas, text, font, size * (1.1 if bold else 1.0), text_w))
            cursor -= size * 1.25
    canvas.showPage()
    canvas.save()
    return out.getvalue()
