"""QR codes (ISO/IEC 18004) as reportlab drawings and SVG, made with segno: the link to the public verification
page printed on certificates and instrument labels.

Error correction level M (about 15 % of the symbol recoverable, ISO/IEC 18004:2015, 4.13; SECONDARY: the level's
share as segno documents it, the standard was not read) with the quiet zone of four modules the standard asks for
(ISO/IEC 18004:2015, 6.3.8; SECONDARY, idem).

>>> m = modules("https://lab.example/web/verify/1/HQ-CAL-2026-00001")
>>> len(m) == len(m[0]) and len(m) >= 21
True
"""

from __future__ import annotations

from typing import Final

#: the quiet zone around the symbol, in modules
QUIET: Final = 4


def modules(data: str) -> list[list[bool]]:
    """The dark (True) and light modules of the QR code of ``data``, quiet zone excluded."""
    import segno

    code = segno.make(data, error="m", micro=False)
    return [[bool(v) for v in row] for row in code.matrix]


def drawing(data: str, size: float) -> object:
    """A reportlab ``Drawing`` of ``size`` points square (quiet zone included) holding the QR code of ``data``."""
    from reportlab.graphics.shapes import Drawing, Rect
    from reportlab.lib import colors

    grid = modules(data)
    count = len(grid) + 2 * QUIET
    unit = size / count
    shape = Drawing(size, size)
    shape.add(Rect(0, 0, size, size, fillColor=colors.white, strokeColor=None))
    for y, row in enumerate(grid):
        x = 0
        while x < len(row):  # one rectangle per run of dark modules: a smaller, crisper PDF
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            shape.add(
                Rect(
                    (QUIET + start) * unit,
                    size - (QUIET + y + 1) * unit,
                    (x - start) * unit,
                    unit,
                    fillColor=colors.black,
                    strokeColor=None,
                )
            )
    return shape


def draw_on(canvas: object, data: str, x: float, y: float, size: float) -> None:
    """Draw the QR code of ``data`` on a reportlab canvas, lower left corner at (``x``, ``y``), ``size`` square."""
    from reportlab.graphics import renderPDF

    renderPDF.draw(drawing(data, size), canvas, x, y)


def svg_path(data: str, x: float, y: float, size: float) -> str:
    """SVG markup (a white square and one ``path``) of the QR code of ``data`` at (``x``, ``y``), ``size`` square,
    in the user units of the enclosing SVG."""
    grid = modules(data)
    count = len(grid) + 2 * QUIET
    unit = size / count
    parts = []
    for row_index, row in enumerate(grid):
        for col, dark in enumerate(row):
            if dark:
                left, top = x + (QUIET + col) * unit, y + (QUIET + row_index) * unit
                parts.append(f"M{left:.3f} {top:.3f}h{unit:.3f}v{unit:.3f}h{-unit:.3f}z")
    return (
        f'<rect x="{x:.3f}" y="{y:.3f}" width="{size:.3f}" height="{size:.3f}" fill="white"/>'
        f'<path d="{"".join(parts)}" fill="black"/>'
    )
