"""The province statistics as a PDF report (ReportLab), zh-CN first with English beside it: the reports' tables
with their intervals and funnel flags, at most :data:`MAX_ROWS` rows per report (the CSV/XLSX exports hold all).
Chinese text uses the embedded CJK font of the certificates (:mod:`hengqi.certificates.pdf.fonts`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import Any, Final

from hengqi.certificates.pdf.fonts import register_cjk_font

#: Rows printed per report.
MAX_ROWS: Final = 60

STATISTIC_LABELS: Final = {
    "pass_rate": "检定合格率 Verification pass rate",
    "overdue_rate": "超期未检率 Overdue rate",
    "alarms_per_1000": "每千台告警 Alarms per 1 000 instruments",
    "alarms_per_check": "每次远程核查告警 Alarms per remote check",
    "reverification_time": "失败后复检天数 Days to re-verify after a failure",
}
KEY_LABELS: Final = {
    "region": "地区 Region",
    "organisation": "机构 Organisation",
    "site": "场所 Site",
    "type": "类型 Type",
    "class": "等级 Class",
    "maker": "制造商 Maker",
    "model": "型号 Model",
    "age": "年限 Age",
    "month": "月份 Month",
}


def _cells(report: dict[str, Any], g: dict[str, Any]) -> list[str]:
    keys = [str(g["key"].get(k, "")) for k in report["group_by"]] or ["全部 All"]
    if "total" in g:
        flag = ""
        if g.get("funnel_flag"):
            flag = f"{'偏低 low' if g['funnel_flag'] == 'low' else '偏高 high'} ({g['funnel_level'] * 100:.1f} %)"
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
    keys = [KEY_LABELS.get(k, k) for k in report["group_by"]] or [""]
    if report["name"] in ("pass_rate", "overdue_rate"):
        return [*keys, "计数 Count", "总数 Total", "比率 Rate", "95 % 区间 Interval", "漏斗图 Funnel"]
    if report["name"].startswith("alarms"):
        return [*keys, "告警 Alarms", "暴露量 Exposure", "比率 Rate", "95 % 区间 Interval"]
    return [*keys, "平均天数 Mean days", "已复检 Resolved", "未复检 Open"]


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
        Paragraph("衡器监督统计 Statistics of weighing instruments in service", title),
        Paragraph(
            f"统计日期 As of {as_of.isoformat()} · Wilson 95 % 置信区间 intervals; 漏斗图控制限 funnel limits "
            "95 % / 99.8 %; 告警率 alarm rates: Garwood 95 %",
            small,
        ),
    ]
    for r in reports:
        keys = " × ".join(KEY_LABELS.get(k, k) for k in r["group_by"]) or "全部 All"
        story.append(Paragraph(f"{STATISTIC_LABELS.get(r['name'], r['statistic'])} — {keys}", heading))
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
            story.append(Paragraph(f"{MAX_ROWS} / {len(r['groups'])} — CSV / XLSX 含全部 hold every row", small))
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, title="hengqi statistics").build(story)
    return out.getvalue()
