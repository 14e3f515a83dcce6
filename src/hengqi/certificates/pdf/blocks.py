"""Building blocks shared by the certificates' PDFs: paragraphs, headings, key/value and grid tables, and the
document build with the page furniture of :mod:`hengqi.certificates.pdf.layout`."""

from __future__ import annotations

import io
from collections.abc import Sequence
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.doctemplate import LayoutError

from hengqi import __version__
from hengqi.certificates.admin import Address, AdministrativeData, Person
from hengqi.certificates.pdf import layout
from hengqi.errors import InputError
from hengqi.locale import NP_, bilingual, translate_message

__all__ = ["Blocks", "address_text", "build_document", "text_of"]


def text_of(texts: dict[str, str]) -> str:
    """A bilingual text as ``English / 中文`` (escaped for a paragraph).

    >>> text_of({"en": "Balance", "zh": "天平"}), text_of({"en": "A & B"})
    ('Balance / 天平', 'A &amp; B')
    """
    en, zh = texts.get("en", ""), texts.get("zh")
    return escape(f"{en} / {zh}" if zh else en)


def address_text(a: Address) -> str:
    """A postal address on one line (escaped): ``Wensan Road 90, 310012 Hangzhou, CN``."""
    parts = [" ".join(x for x in (a.street, a.street_no) if x), " ".join(x for x in (a.post_code, a.city) if x)]
    parts += [x for x in (a.state, a.country) if x]
    return escape(", ".join(p for p in parts if p))


class Blocks:
    """A story of flowables with the certificate's styles (``font``: the registered CJK font)."""

    def __init__(self, font: str) -> None:
        self.font = font
        self.s = layout.make_styles(font)
        self.story: list[object] = []

    def p(self, text: str, style: str = "body") -> Paragraph:
        return Paragraph(text, getattr(self.s, style))

    def h2(self, en: str, zh: str) -> None:
        self.story.append(self.p(f"{escape(en)}  {escape(zh)}", "h2"))

    def authorisation(
        self, heading: tuple[str, str], persons: Sequence[Person], *, signed: bool, verify_url: str | None
    ) -> None:
        """The persons authorising the certificate (ISO/IEC 17025:2017, 7.8.2.1), the verification link where
        given, and the closing line, kept together on one page; ``heading``: English and Chinese."""
        start = len(self.story)
        self.h2(*heading)
        rows = []
        for person in persons:
            role = text_of(person.role) if person.role else ""
            mark = " (" + escape(bilingual(NP_("certificate", "main signer"))) + ")" if person.main_signer else ""
            rows.append(
                [
                    self.p(escape(person.name) + mark, "cell"),
                    self.p(role, "cell"),
                    self.p(
                        escape(bilingual(NP_("certificate", "signed electronically")))
                        if signed and person.main_signer
                        else "",
                        "cell",
                    ),
                ]
            )
        table = Table(rows, colWidths=[60 * mm, 60 * mm, None])
        table.setStyle(
            TableStyle([("FONTNAME", (0, 0), (-1, -1), self.font), ("LINEBELOW", (0, 0), (-1, -1), 0.25, layout.RULE)])
        )
        self.story.append(table)
        self.story.append(Spacer(1, 3 * mm))
        if verify_url is not None:
            self.verification_link(verify_url)
        end = bilingual(NP_("certificate", "End of certificate"))
        self.story.append(self.p(f"Issued with hengqi {escape(__version__)}. — {escape(end)} —", "small"))
        block = self.story[start:]
        del self.story[start:]
        self.story.append(KeepTogether(block))

    def verification_link(self, url: str) -> None:
        """The link to the certificate's public verification page with its QR code (labels and PDFs)."""
        from hengqi.certificates.pdf.qr import drawing

        check = NP_(
            "certificate",
            "Check that this certificate is current and that this file is genuine: scan the code or open",
        )
        text = self.p(f"{escape(check.text)} {escape(url)}<br/>{escape(translate_message('zh', check))}", "small")
        qr = Table([[drawing(url, 24 * mm), text]], colWidths=[28 * mm, None])
        qr.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("FONTNAME", (0, 0), (-1, -1), self.font)]))
        self.story.append(qr)

    def kv_table(self, rows: Sequence[tuple[str, str]]) -> None:
        data = [[self.p(k, "cell"), self.p(v, "cell")] for k, v in rows]
        table = Table(data, colWidths=[55 * mm, None])
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), self.font),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BACKGROUND", (0, 0), (0, -1), layout.SHADE),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, layout.RULE),
                    ("TOPPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        self.story.append(table)

    def grid(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths: Sequence[float] | None = None,
        *,
        text_first: bool = False,
    ) -> Table:
        data = [[self.p(h, "head") for h in header]]
        data += [
            [self.p(escape(c), "cell" if text_first and i == 0 else "cell_right") for i, c in enumerate(row)]
            for row in rows
        ]
        table = Table(data, colWidths=list(widths) if widths else None, repeatRows=1, hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), self.font),
                    ("BACKGROUND", (0, 0), (-1, 0), layout.ACCENT),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, layout.SHADE]),
                    ("LINEBELOW", (0, -1), (-1, -1), 0.6, layout.ACCENT),
                    ("TOPPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        return table


def build_document(story: list[object], font: str, admin: AdministrativeData, *, subject: str, draft: bool) -> bytes:
    """The story laid out on A4 with the header, "Page x of y" footer and, for a ``draft``, "DRAFT" on every
    page; :class:`InputError` when a text cannot be laid out."""
    out = io.BytesIO()
    info = admin.certificate
    doc = SimpleDocTemplate(
        out,
        pagesize=layout.PAGE_SIZE,
        leftMargin=layout.MARGIN,
        rightMargin=layout.MARGIN,
        topMargin=layout.MARGIN + 4 * mm,
        bottomMargin=layout.MARGIN,
        title=f"{info.title['en']} {info.number}",
        author=admin.laboratory.name["en"],
        subject=subject,
        creator=f"hengqi {__version__}",
        lang="en",
    )
    try:
        canvas = layout.numbered_canvas(font, info.number, admin.laboratory.name["en"], draft=draft)
        doc.build(story, canvasmaker=canvas)
    except (LayoutError, ValueError) as err:  # reportlab: a table cell or paragraph that no page can hold
        raise InputError(
            "pdf", "a text is too long to lay out on an A4 page; shorten the longest name, identifier or note"
        ) from err
    return out.getvalue()
