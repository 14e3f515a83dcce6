"""The province statistics PDF export (:mod:`hengqi.server.analytics.report_pdf`) takes its Chinese from the
catalogue: every label looked up without a miss, and the printed text (``pdftotext -layout``, poppler) identical
to what the code printed before, when the Chinese was written in the module (``data/province_report.txt``,
made with that code from :func:`reports` below)."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path
from typing import Any

from hengqi.locale import record_misses
from hengqi.server.analytics.report_pdf import MAX_ROWS, to_pdf

SAVED = Path(__file__).parent / "data" / "province_report.txt"


def reports() -> list[dict[str, Any]]:
    """One report of each shape (rates with funnel flags, event rates, re-verification days), every grouping key,
    and one report longer than the PDF prints."""
    rate = {"count": 3, "total": 40, "rate": 0.075, "lower": 0.026, "upper": 0.199}
    keys = ["region", "organisation", "site", "type", "class", "maker", "model", "age", "month"]
    return [
        {
            "name": "pass_rate",
            "statistic": "pass_rate",
            "group_by": ["region", "class"],
            "groups": [
                {"key": {"region": "North", "class": "III"}, **rate, "funnel_flag": "low", "funnel_level": 0.95},
                {"key": {"region": "South", "class": "II"}, **rate, "funnel_flag": "high", "funnel_level": 0.998},
                {"key": {"region": "East", "class": "IIII"}, **rate},
            ],
        },
        {"name": "overdue_rate", "statistic": "overdue_rate", "group_by": [], "groups": [rate]},
        {
            "name": "alarms_per_1000",
            "statistic": "alarms_per_1000",
            "group_by": keys[2:5],
            "groups": [
                {
                    "key": {"site": "S1", "type": "truck", "class": "III"},
                    "events": 4,
                    "exposure": 1.5,
                    "rate": 2.6667,
                    "lower": 0.73,
                    "upper": 6.8,
                }
            ],
        },
        {
            "name": "alarms_per_check",
            "statistic": "alarms_per_check",
            "group_by": keys[5:],
            "groups": [
                {
                    "key": {"maker": "M", "model": "X", "age": "5-10", "month": "2026-10"},
                    "events": 1,
                    "exposure": 12.0,
                    "rate": 0.0833,
                    "lower": 0.002,
                    "upper": 0.46,
                }
            ],
        },
        {
            "name": "reverification_time",
            "statistic": "reverification_time",
            "group_by": ["organisation"],
            "groups": [
                {
                    "key": {"organisation": f"Lab {n}"},
                    "mean_days": None if n == 0 else 3.5 + n,
                    "resolved": n,
                    "open": 1,
                }
                for n in range(MAX_ROWS + 2)
            ],
        },
    ]


def pdf_text(tmp_path: Path) -> str:
    pdf = tmp_path / "province.pdf"
    pdf.write_bytes(to_pdf(reports(), as_of=date(2026, 12, 1)))
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout


def test_the_pdf_reads_as_before_with_every_chinese_label_from_the_catalogue(tmp_path: Path) -> None:
    with record_misses() as misses:
        text = pdf_text(tmp_path)
    assert misses == set()
    assert "检定合格率 Verification pass rate" in text
    assert "地区 Region" in text
    assert "偏低 low" in text
    assert text == SAVED.read_text(encoding="utf-8")
