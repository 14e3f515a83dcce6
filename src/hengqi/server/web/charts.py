"""Charts drawn on the server as SVG (no script, no plotting library in the browser; prints and scales cleanly).

Values come in kilograms (exact decimals or floats) and are shown in a unit chosen for the instrument.

>>> unit_for(Decimal("0.22")), unit_for(Decimal("60000")), error_unit_for(Decimal("0.0000001"))
('g', 't', 'mg')
>>> svg = error_curve_svg([(Decimal("0.1"), Decimal("0.0000006"), 0.0000002)], lambda load: Decimal("0.000002"),
...                       max_kg=Decimal("0.22"), d_kg=Decimal("0.0000001"), labels=("E", "U", "MPE"))
>>> svg.startswith("<svg") and "polyline" in svg and "100" in svg
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from html import escape

UNITS: dict[str, Decimal] = {"mg": Decimal("0.000001"), "g": Decimal("0.001"), "kg": Decimal(1), "t": Decimal(1000)}
PALETTE = ("#1f6feb", "#d9480f", "#2f9e44", "#9c36b5", "#e8590c", "#0c8599")


def unit_for(max_kg: Decimal) -> str:
    """The unit loads are shown in."""
    if max_kg <= 1:
        return "g"
    if max_kg <= 2000:
        return "kg"
    return "t"


def error_unit_for(d_kg: Decimal) -> str:
    """The unit errors are shown in (a few d must be readable)."""
    if d_kg < Decimal("0.001"):
        return "mg"
    if d_kg < 1:
        return "g"
    return "kg"


def _in(value_kg: Decimal | float, unit: str) -> float:
    return float(Decimal(str(value_kg)) / UNITS[unit])


def _nice(value: float) -> str:
    if value == 0:
        return "0"
    return f"{value:.6g}"


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        return [low]
    raw = (high - low) / count
    magnitude = 10 ** _floor_log10(raw)
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw), default=raw)
    start = step * _ceil(low / step)
    ticks = []
    value = start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


def _floor_log10(value: float) -> int:
    import math

    return math.floor(math.log10(value)) if value > 0 else 0


def _ceil(value: float) -> int:
    import math

    return math.ceil(value - 1e-9)


class _Frame:
    """A plot area with linear axes."""

    def __init__(self, width: int, height: int, x: tuple[float, float], y: tuple[float, float]) -> None:
        self.width, self.height = width, height
        self.left, self.right, self.top, self.bottom = 64, 16, 34, 44
        self.x0, self.x1 = x
        self.y0, self.y1 = y
        if self.x1 == self.x0:
            self.x1 = self.x0 + 1
        if self.y1 == self.y0:
            self.y0, self.y1 = self.y0 - 1, self.y1 + 1

    def px(self, x: float) -> float:
        return self.left + (x - self.x0) / (self.x1 - self.x0) * (self.width - self.left - self.right)

    def py(self, y: float) -> float:
        return self.top + (self.y1 - y) / (self.y1 - self.y0) * (self.height - self.top - self.bottom)

    def axes(self, x_label: str, y_label: str) -> list[str]:
        parts = [
            f'<rect x="{self.left}" y="{self.top}" width="{self.width - self.left - self.right}" '
            f'height="{self.height - self.top - self.bottom}" class="plot-bg"/>'
        ]
        for tick in _ticks(self.x0, self.x1):
            x = self.px(tick)
            parts.append(
                f'<line x1="{x:.1f}" y1="{self.top}" x2="{x:.1f}" y2="{self.height - self.bottom}" class="grid"/>'
            )
            parts.append(
                f'<text x="{x:.1f}" y="{self.height - self.bottom + 16}" class="tick" '
                f'text-anchor="middle">{_nice(tick)}</text>'
            )
        for tick in _ticks(self.y0, self.y1):
            y = self.py(tick)
            parts.append(
                f'<line x1="{self.left}" y1="{y:.1f}" x2="{self.width - self.right}" y2="{y:.1f}" class="grid"/>'
            )
            parts.append(
                f'<text x="{self.left - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{_nice(tick)}</text>'
            )
        if self.y0 < 0 < self.y1:
            y = self.py(0)
            parts.append(
                f'<line x1="{self.left}" y1="{y:.1f}" x2="{self.width - self.right}" y2="{y:.1f}" class="zero"/>'
            )
        parts.append(
            f'<text x="{(self.left + self.width - self.right) / 2:.0f}" y="{self.height - 6}" class="label" '
            f'text-anchor="middle">{escape(x_label)}</text>'
        )
        parts.append(
            f'<text x="14" y="{(self.top + self.height - self.bottom) / 2:.0f}" class="label" text-anchor="middle" '
            f'transform="rotate(-90 14 {(self.top + self.height - self.bottom) / 2:.0f})">{escape(y_label)}</text>'
        )
        return parts


def _svg(width: int, height: int, body: Sequence[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def mpe_envelopes(
    mpe: Callable[..., Decimal | None], max_kg: Decimal, ranges: Sequence[tuple[int, Decimal]] = ()
) -> list[tuple[int | None, list[tuple[Decimal, Decimal | None]]]]:
    """The ``± MPE`` envelope sampled at 200 loads: ``[(None, [(load, MPE)])]`` over 0 ... Max by default, or, for
    ``ranges`` ``[(number, Max of that range)]`` of a multiple-range instrument, one envelope per range over
    0 ... Max(i) with ``mpe(load, number)``: the MPE of the range in use, OIML R 76-1:2006, 3.5.1 Table 6 with the
    e(i) of that range (each range classified on its own, Directive 2014/31/EU Annex I, 3.2, as
    :mod:`hengqi.metrology.mpe` notes).  A point read in range 2 at a load inside range 1 is judged against range 2's
    envelope, drawn there too.

    On a multi-interval instrument the default envelope already follows the partial range of each load, e(i) of
    the partial range holding it (:meth:`~hengqi.metrology.classes.InstrumentSpecification.range_at`; NOT
    confirmed against R 76-1's text, see :mod:`hengqi.metrology.mpe`), so no ``ranges`` are given there.
    """
    if not ranges:
        return [(None, [(load, mpe(load)) for load in (max_kg * k / 200 for k in range(1, 201))])]
    return [
        (number, [(load, mpe(load, number)) for load in (top * k / 200 for k in range(1, 201))])
        for number, top in ranges
    ]


def error_curve_svg(
    points: Sequence[tuple[Decimal, Decimal, float]],
    mpe: Callable[..., Decimal | None],
    *,
    max_kg: Decimal,
    d_kg: Decimal,
    labels: tuple[str, str, str],
    ranges: Sequence[tuple[int, Decimal]] = (),
    width: int = 640,
    height: int = 320,
) -> str:
    """Errors of indication ``(load, E, U)`` with ``± U`` bars and the ``± MPE`` envelope over 0 ... Max; with
    ``ranges`` (multiple-range), one envelope per range in use (:func:`mpe_envelopes`), marked ``data-range``."""
    lu, eu = unit_for(max_kg), error_unit_for(d_kg)
    envelopes = mpe_envelopes(mpe, max_kg, ranges)
    limits = [_in(m, eu) for _, envelope in envelopes for _, m in envelope if m is not None]
    extent = [abs(_in(e, eu)) + _in(u, eu) for _, e, u in points] + limits + [_in(d_kg, eu)]
    top = max(extent) * 1.15
    frame = _Frame(width, height, (0.0, _in(max_kg, lu) * 1.02), (-top, top))
    body = frame.axes(f"L / {lu}", f"E / {eu}")
    for number, envelope in envelopes:
        upper = " ".join(
            f"{frame.px(_in(load, lu)):.1f},{frame.py(_in(m, eu)):.1f}" for load, m in envelope if m is not None
        )
        lower = " ".join(
            f"{frame.px(_in(load, lu)):.1f},{frame.py(-_in(m, eu)):.1f}" for load, m in envelope if m is not None
        )
        marked = "" if number is None else f' data-range="{number}"'
        if upper:
            body.append(f'<polyline points="{upper}" class="mpe"{marked}/>')
            body.append(f'<polyline points="{lower}" class="mpe"{marked}/>')
    for load, error, u in points:
        x, y = frame.px(_in(load, lu)), frame.py(_in(error, eu))
        y_hi, y_lo = frame.py(_in(error, eu) + _in(u, eu)), frame.py(_in(error, eu) - _in(u, eu))
        body.append(f'<line x1="{x:.1f}" y1="{y_hi:.1f}" x2="{x:.1f}" y2="{y_lo:.1f}" class="ubar"/>')
        body.append(f'<line x1="{x - 5:.1f}" y1="{y_hi:.1f}" x2="{x + 5:.1f}" y2="{y_hi:.1f}" class="ubar"/>')
        body.append(f'<line x1="{x - 5:.1f}" y1="{y_lo:.1f}" x2="{x + 5:.1f}" y2="{y_lo:.1f}" class="ubar"/>')
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" class="point"><title>{_nice(_in(load, lu))} {lu}: '
            f"E = {_nice(_in(error, eu))} {eu}, U = {_nice(_in(u, eu))} {eu}</title></circle>"
        )
    body.append(_legend(width, [("point", labels[0]), ("ubar", labels[1]), ("mpe", labels[2])]))
    return _svg(width, height, body, labels[0])


def _text_width(text: str, size: float = 12) -> float:
    """Rough width of ``text`` in the legend font (wide East Asian characters count about one em)."""
    import unicodedata

    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.56 for ch in text)


def _legend(width: int, items: Sequence[tuple[str, str]], left: float = 64) -> str:
    parts = []
    x = left
    for css, text in items:
        if not text:
            continue
        if css == "point":
            mark = f'<circle cx="{x + 6:.0f}" cy="16" r="4" class="point"/>'
        else:
            mark = f'<line x1="{x:.0f}" y1="16" x2="{x + 12:.0f}" y2="16" class="{css}"/>'
        parts.append(f'{mark}<text x="{x + 16:.0f}" y="20" class="legend">{escape(text)}</text>')
        x += 16 + _text_width(text) + 18
    return "".join(parts)


def history_svg(
    series: Sequence[tuple[str, Sequence[tuple[Decimal, Decimal, float]]]],
    *,
    max_kg: Decimal,
    d_kg: Decimal,
    width: int = 640,
    height: int = 300,
) -> str:
    """The error curves of several calibrations (one line each, with U bars), oldest first."""
    lu, eu = unit_for(max_kg), error_unit_for(d_kg)
    extent = [abs(_in(e, eu)) + _in(u, eu) for _, pts in series for _, e, u in pts] + [_in(d_kg, eu)]
    top = max(extent) * 1.15
    frame = _Frame(width, height, (0.0, _in(max_kg, lu) * 1.02), (-top, top))
    body = frame.axes(f"L / {lu}", f"E / {eu}")
    legend = []
    for index, (label, pts) in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        coords = [(frame.px(_in(load, lu)), frame.py(_in(e, eu))) for load, e, _ in pts]
        body.append(
            f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in coords)}" fill="none" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        for (load, e, u), (x, y) in zip(pts, coords, strict=True):
            y_hi, y_lo = frame.py(_in(e, eu) + _in(u, eu)), frame.py(_in(e, eu) - _in(u, eu))
            body.append(
                f'<line x1="{x:.1f}" y1="{y_hi:.1f}" x2="{x:.1f}" y2="{y_lo:.1f}" stroke="{colour}" '
                'stroke-opacity="0.5"/>'
            )
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"><title>{escape(label)}: '
                f"{_nice(_in(load, lu))} {lu}, E = {_nice(_in(e, eu))} {eu}</title></circle>"
            )
        legend.append(f'<tspan fill="{colour}">● {escape(label)}</tspan> ')
    body.append(f'<text x="{frame.left}" y="20" class="legend">{"".join(legend)}</text>')
    return _svg(width, height, body, "history")


#: Where each named position lies on a square load receptor (x, y in -1 ... 1; y up = back).
_SPOTS = {
    "centre": (0.0, 0.0),
    "center": (0.0, 0.0),
    "front-left": (-0.5, -0.5),
    "front-right": (0.5, -0.5),
    "back-left": (-0.5, 0.5),
    "back-right": (0.5, 0.5),
    "front": (0.0, -0.5),
    "back": (0.0, 0.5),
    "left": (-0.5, 0.0),
    "right": (0.5, 0.0),
}


def _spot(position: str, size: float, pad: float) -> tuple[float, float]:
    x, y = _SPOTS.get(position, (0.0, 0.0))
    half = (size - 2 * pad) / 2
    return pad + half + x * half, pad + half - y * half


def receptor_svg(position: str, label: str, *, size: int = 200) -> str:
    """The load receptor seen from above, the place to put the load marked (front at the bottom)."""
    pad = 16
    body = [f'<rect x="{pad}" y="{pad}" width="{size - 2 * pad}" height="{size - 2 * pad}" rx="10" class="receptor"/>']
    for name in ("centre", "front-left", "front-right", "back-left", "back-right"):
        x, y = _spot(name, size, pad)
        body.append(f'<circle cx="{x:.0f}" cy="{y:.0f}" r="14" class="spot"/>')
    x, y = _spot(position, size, pad)
    body.append(f'<circle cx="{x:.0f}" cy="{y:.0f}" r="22" class="spot-active"/>')
    body.append(f'<text x="{x:.0f}" y="{y + 5:.0f}" text-anchor="middle" class="spot-label">{escape(label)}</text>')
    body.append(f'<text x="{size / 2:.0f}" y="{size - 3}" text-anchor="middle" class="tick">front</text>')
    return _svg(size, size, body, position)


def eccentricity_svg(
    positions: Sequence[str],
    deviations_kg: Sequence[Decimal],
    *,
    d_kg: Decimal,
    size: int = 260,
    title: str = "eccentricity",
    front: str = "front",
) -> str:
    """Deviation of each position from the centre on a top view of the receptor (colour: size in d); ``title`` and
    ``front`` are the words shown, in the page's language."""
    eu = error_unit_for(d_kg)
    pad = 22
    body = [f'<rect x="{pad}" y="{pad}" width="{size - 2 * pad}" height="{size - 2 * pad}" rx="10" class="receptor"/>']
    for position, deviation in zip(positions, deviations_kg, strict=True):
        x, y = _spot(position, size, pad)
        in_d = abs(deviation) / d_kg if d_kg else Decimal(0)
        css = "ecc-ok" if in_d <= 1 else ("ecc-warn" if in_d <= 3 else "ecc-bad")
        body.append(f'<circle cx="{x:.0f}" cy="{y:.0f}" r="26" class="{css}"/>')
        sign = "+" if deviation > 0 else ""
        body.append(
            f'<text x="{x:.0f}" y="{y + 4:.0f}" text-anchor="middle" class="ecc-label">'
            f"{sign}{_nice(_in(deviation, eu))}</text>"
        )
    body.append(
        f'<text x="{size / 2:.0f}" y="{size - 4}" text-anchor="middle" class="tick">{escape(front)} · {eu}</text>'
    )
    return _svg(size, size, body, title)


def repeatability_svg(
    readings_kg: Sequence[Decimal],
    *,
    d_kg: Decimal,
    width: int = 320,
    height: int = 200,
    title: str = "repeatability",
) -> str:
    """The readings of a repeatability series around their mean (deviations in the error unit); ``title`` names
    the chart in the page's language."""
    eu = error_unit_for(d_kg)
    mean = sum(readings_kg, Decimal(0)) / len(readings_kg)
    devs = [_in(r - mean, eu) for r in readings_kg]
    top = max([abs(v) for v in devs] + [_in(d_kg, eu)]) * 1.3
    frame = _Frame(width, height, (0.5, len(devs) + 0.5), (-top, top))
    body = frame.axes("#", f"I − Ī / {eu}")
    for index, value in enumerate(devs, start=1):
        body.append(
            f'<circle cx="{frame.px(index):.1f}" cy="{frame.py(value):.1f}" r="5" class="point">'
            f"<title>#{index}: {_nice(value)} {eu}</title></circle>"
        )
    return _svg(width, height, body, title)
