"""Page furniture of the certificate: styles, header, and the footer with "Page x of y" on every page.

ISO/IEC 17025:2017, 7.8.2.1 (b), (c): the certificate's unique identification on each page and a clear
identification of its end, page numbering with the total number of pages (SECONDARY: read through summaries).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from hengqi.locale import NP_, Message, translate_message

#: A4 in points (ISO 216).
PAGE_SIZE = A4
ACCENT = colors.HexColor("#1f4e79")
RULE = colors.HexColor("#9bb3cc")
SHADE = colors.HexColor("#eef3f8")
PAGE_W, PAGE_H = A4
MARGIN = 18 * mm


def _bilingual(text: Message) -> str:
    """English and Chinese (from the catalogue) side by side, as the certificate prints every label."""
    return f"{text.text} {translate_message('zh', text)}"


def _page_of(page: int, total: int) -> str:
    """ "Page x of y" in English and Chinese."""
    message = NP_("certificate", "Page {page} of {total}")
    english = message.text.format(page=page, total=total)
    return f"{english}   {translate_message('zh', message).format(page=page, total=total)}"


@dataclass(frozen=True, slots=True)
class Styles:
    title: ParagraphStyle
    subtitle: ParagraphStyle
    h2: ParagraphStyle
    body: ParagraphStyle
    statement: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    cell_right: ParagraphStyle
    head: ParagraphStyle


def make_styles(font: str) -> Styles:
    # no single line of a paragraph alone at the foot or the head of a page (orphans and widows)
    base = ParagraphStyle(
        "base",
        fontName=font,
        bulletFontName=font,
        fontSize=9,
        leading=12.5,
        textColor=colors.black,
        allowOrphans=0,
        allowWidows=0,
    )
    return Styles(
        title=ParagraphStyle("title", parent=base, fontSize=20, leading=25, alignment=1, textColor=ACCENT),
        subtitle=ParagraphStyle("subtitle", parent=base, fontSize=10, leading=14, alignment=1),
        h2=ParagraphStyle(
            "h2", parent=base, fontSize=11, leading=15, spaceBefore=9, spaceAfter=4, textColor=ACCENT, keepWithNext=1
        ),
        body=base,
        statement=ParagraphStyle("statement", parent=base, spaceAfter=4),
        small=ParagraphStyle("small", parent=base, fontSize=7.5, leading=10, textColor=colors.HexColor("#333333")),
        cell=ParagraphStyle("cell", parent=base, fontSize=8, leading=10.5),
        cell_right=ParagraphStyle("cellr", parent=base, fontSize=8, leading=10.5, alignment=2),
        head=ParagraphStyle("head", parent=base, fontSize=7.5, leading=10, textColor=colors.white, alignment=1),
    )


def numbered_canvas(font: str, certificate_id: str, laboratory: str, *, draft: bool = False) -> type[canvas.Canvas]:
    """A canvas class that draws header and footer after the page count is known ("Page x of y"); with ``draft``
    also _bilingual(NP_("certificate", "DRAFT")) across every page."""

    class NumberedCanvas(canvas.Canvas):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["initialFontName"] = kwargs.get("initialFontName") or font
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - ReportLab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._furniture(total)
                super().showPage()
            super().save()

        def _furniture(self, total: int) -> None:
            page = self._pageNumber
            self.saveState()
            self.setStrokeColor(RULE)
            self.setLineWidth(0.6)
            top = PAGE_H - MARGIN + 6 * mm
            self.line(MARGIN, top - 2 * mm, PAGE_W - MARGIN, top - 2 * mm)
            self.setFont(font, 8)
            self.setFillColor(ACCENT)
            self.drawString(MARGIN, top, laboratory)
            self.drawRightString(
                PAGE_W - MARGIN, top, _bilingual(NP_("certificate", "Certificate No.")) + f": {certificate_id}"
            )
            bottom = MARGIN - 8 * mm
            self.line(MARGIN, bottom + 4 * mm, PAGE_W - MARGIN, bottom + 4 * mm)
            self.setFillColor(colors.black)
            self.drawString(MARGIN, bottom, certificate_id)
            self.drawCentredString(PAGE_W / 2, bottom, _page_of(page, total))
            self.drawRightString(PAGE_W - MARGIN, bottom, "hengqi")
            if draft:
                self.setFillColor(colors.Color(0.8, 0.1, 0.1, alpha=0.18))
                self.setFont(font, 72)
                self.translate(PAGE_W / 2, PAGE_H / 2)
                self.rotate(45)
                self.drawCentredString(0, 0, _bilingual(NP_("certificate", "DRAFT")))
            self.restoreState()

    return NumberedCanvas
