"""The error curve of a calibration as an image: errors of indication with their expanded uncertainties as bars.

Drawn with matplotlib's Agg backend (no display needed), at 200 dpi, into PNG bytes for the PDF certificate.
"""

from __future__ import annotations

import io

from hengqi.locale import NP_, Message, translate_message
from hengqi.metrology.calibration.result import CalibrationResult
from hengqi.metrology.reporting import UNIT_EXPONENT

#: D-SI unit of each unit symbol (for callers that hold D-SI names).
DSI_UNIT = {"g": "\\gram", "kg": "\\kilogram", "mg": "\\milli\\gram", "t": "\\tonne"}


def error_plot_png(result: CalibrationResult, unit: str, error_unit: str, font_path: str) -> bytes:
    """PNG bytes of E(L) with U(E) bars (and the error curve, when there is one), labelled in English and Chinese;
    ``unit`` and ``error_unit`` are symbols such as ``g`` and ``mg``."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    font = FontProperties(fname=font_path, size=8)
    to_load = 10.0 ** -UNIT_EXPONENT[unit]
    to_err = 10.0 ** -UNIT_EXPONENT[error_unit]
    loads = [float(p.load_kg) * to_load for p in result.points]
    errors = [float(p.error_kg) * to_err for p in result.points]
    bars = [p.U_kg * to_err for p in result.points]
    fig = Figure(figsize=(6.4, 2.6), dpi=200)
    ax = fig.add_subplot(1, 1, 1)
    ax.axhline(0.0, color="#888888", linewidth=0.6)
    ax.errorbar(
        loads,
        errors,
        yerr=bars,
        fmt="o",
        color="#1f4e79",
        ecolor="#1f4e79",
        elinewidth=1.0,
        capsize=3,
        markersize=4,
        label="E ± U(E)",
    )
    curve = result.error_curve
    if curve is not None and loads:
        top = max(loads)
        xs = [top * i / 100 for i in range(101)]
        ys = [curve.error_kg(x / to_load) * to_err for x in xs]
        ax.plot(xs, ys, color="#c55a11", linewidth=1.0, label="E_appr(R)")
    ax.set_xlabel(_axis(NP_("certificate", "Test load"), unit), fontproperties=font)
    ax.set_ylabel(_axis(NP_("certificate", "Error"), error_unit), fontproperties=font)
    ax.tick_params(labelsize=7)
    ax.grid(True, linewidth=0.3, color="#cccccc")
    ax.legend(prop=font, loc="best", frameon=False)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _axis(text: Message, unit: str) -> str:
    """An axis title: English / Chinese (from the catalogue) (unit)."""
    return f"{text.text} / {translate_message('zh', text)} ({unit})"
