"""The province statistics as a PDF report (ReportLab), zh-CN first with English beside it (the Chinese from the
gettext catalogue, msgid the English): the reports' tables
with their intervals and funnel flags, at most :data:`MAX_ROWS` rows per report (the CSV/XLSX exports hold all).
Chinese text uses the embedded CJK font of the certificates (:mod:`hengqi.certificates.pdf.fonts`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import Any, Final

from hengqi.certificates.pdf.fonts import register_cjk_font
from hengqi.locale import N_, NP_, Message, translate_message

#: Rows printed per report.
MAX_ROWS: Final = 60

#: The statistics by name (the same English as the province page, :mod:`hengqi.server.web.statistics`).
STATISTIC_LABELS: Final[dict[str, Message]] = {
    "pass_rate": N_("Verification pass rate"),
    "overdue_rate": N_("Overdue rate"),
    "alarms_per_1000": N_("Alarms per 1 000 instruments"),
    "alarms_per_check": N_("Alarms per remote check"),
    "reverification_time": N_("Days to re-verify after a failure"),
}
#: The grouping keys' names as the report prints them.
KEY_LABELS: Final[dict[str, Message]] = {
    "region": NP_("statistics report", "Region"),
    "organisation": NP_("statistics report", "Organisation"),
    "site": NP_("statistics report", "Site"),
    "type": NP_("statistics report", "Type"),
    "class": NP_("statistics report", "Class"),
    "maker": NP_("statistics report", "Maker"),
    "model": NP_("statistics report", "Model"),
    "age": NP_("statistics report", "Age"),
    "month": NP_("statistics report", "Month"),
}


def _both(message: Message) -> str:
    """Chinese (from the catalogue), then English: how the report prints a label.

    >>> _both(STATISTIC_LABELS["pass_rate"])
    '检定合格率 Verification pass rate'
    """
    return f"{translate_message('zh', message)} {message.english()}"


def _zh(message: Message) -> str:
    return translate_message("zh", message)


def _key_label(key: str) -> str:
    label = KEY_LABELS.get(key)
    return key if label is None else _both(label)


def _cells(report: dict[str, Any], g: dict[str, Any]) -> list[str]:
    keys = [str(g["key"].get(k, "")) for k in report["group_by"]] or [_both(NP_("province statistics", "All"))]
    if "total" in g:
        flag = ""
        if g.get("funnel_flag"):
            side = NP_("funnel flag", "low") if g["funnel_flag"] == "low" else NP_("funnel flag", "high")
            flag = f"{_both(side)} ({g['funnel_level'] * 100:.1f} %)"
        return [*keys, str(g["count"]), str(g["total"]), f"{g['rate'] * 100:.2f} %",
                f"{g['lower'] * 100:.2f} – {g['upper'] * 100:.2f} %", flag]  # fmt: skip
    if "events" in g:
        return [
            *keys,
            str(g["events"]),
            f"{g['exposure']:g}",
            f"{g['rate']:.3g}",
            f"{g['lower']:.3g} – {g['upper']:.3g}",
        ]
    mean = "—" if g["mean_days"] is None else f"{g['mean_days']:.1f}"
    return [*keys, mean, str(g["resolved"]), str(g["open"])]


def _header(report: dict[str, Any]) -> list[str]:
    keys = [_key_label(k) for k in report["group_by"]] or [""]
    interval = "95 % " + _both(NP_("statistics report", "Interval"))
    count = _both(NP_("province statistics", "Count"))
    if report["name"] in ("pass_rate", "overdue_rate"):
        return [*keys, count, _both(N_("Total")), _both(N_("Rate")), interval, _both(N_("Funnel"))]
    if report["name"].startswith("alarms"):
        return [*keys, _both(N_("Alarms")), _both(N_("Exposure")), _both(N_("Rate")), interval]
    resolved, still_open = NP_("statistics report", "Resolved"), NP_("statistics report", "Open")
    return [*keys, _both(N_("Mean days")), _both(resolved), _both(still_open)]


def to_pdf(reports: Sequence[dict[str, Any]], *, as_of: date) -> bytes:
    """A4 report of ``reports`` taken on ``as_of``."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    font = register_cjk_font()
    title = ParagraphStyle("title", fontName=font, fontSize=15, leading=20, spaceAfter=4 * mm)
    heading = ParagraphStyle("heading", fontName=font, fontSize=11, leading=15, spaceBefore=5 * mm, spaceAfter=2 * mm)
    small = ParagraphStyle("small", fontName=font, fontSize=8, leading=10)
    story: list[Any] = [
        Paragraph(_both(NP_("statistics report", "Statistics of weighing instruments in service")), title),
        Paragraph(
            " ".join(
                (
                    _zh(NP_("statistics report", "As of")),
                    f"As of {as_of.isoformat()} · Wilson 95 %",
                    _zh(NP_("statistics report", "intervals")),
                    "intervals;",
                    _zh(NP_("statistics report", "funnel limits")),
                    "funnel limits 95 % / 99.8 %;",
                    _zh(NP_("statistics report", "alarm rates")),
                    "alarm rates: Garwood 95 %",
                )
            ),
            small,
        ),
    ]
    for r in reports:
        keys = " × ".join(_key_label(k) for k in r["group_by"]) or _both(NP_("province statistics", "All"))
        label = STATISTIC_LABELS.get(r["name"])
        story.append(Paragraph(f"{r['statistic'] if label is None else _both(label)} — {keys}", heading))
        rows = [_header(r), *(_cells(r, g) for g in r["groups"][:MAX_ROWS])]
        table = Table(rows, repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), font),
                    ("FONTSIZE", (0, 0), (-1, -1), 7),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf3")),
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ]
            )
        )
        story.append(table)
        if len(r["groups"]) > MAX_ROWS:
            every = _zh(NP_("statistics report", "hold every row"))
            story.append(Paragraph(f"{MAX_ROWS} / {len(r['groups'])} — CSV / XLSX {every} hold every row", small))
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, title="hengqi statistics").build(story)
    return out.getvalue()
