"""Statistics reports as spreadsheets: one flat table (CSV), or one sheet per statistic (XLSX, openpyxl).

Rows carry the report's statistic and grouping, the group's key values and the report's numbers (``count``,
``total``, ``rate``, ``lower``, ``upper``, funnel flag for proportions; ``events``, ``exposure`` for alarm rates;
``mean_days``, ``resolved``, ``open`` for the time to re-verify).  Text that a spreadsheet could take for a
formula is neutralised (:func:`hengqi.server.api.listing.neutralise`); numbers stay numbers in the workbook.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any, Final

from hengqi.server.api.listing import neutralise

COLUMNS: Final = (
    "statistic",
    "group_by",
    "key",
    "count",
    "total",
    "rate",
    "lower",
    "upper",
    "funnel_flag",
    "funnel_level",
    "events",
    "exposure",
    "per",
    "mean_days",
    "resolved",
    "open",
)


def flat_rows(reports: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per group of each report (``key`` as ``name=value; ...``)."""
    rows = []
    for r in reports:
        for g in r["groups"]:
            row: dict[str, Any] = {
                "statistic": r["name"],
                "group_by": ",".join(r["group_by"]),
                "key": "; ".join(f"{k}={v}" for k, v in g["key"].items()),
                "per": r.get("per"),
            }
            row |= {c: g.get(c) for c in COLUMNS if c in g and c != "key"}
            rows.append(row)
    return rows


def _text(value: object) -> object:
    return neutralise(value) if isinstance(value, str) else value


def to_csv(reports: Sequence[dict[str, Any]]) -> bytes:
    """UTF-8 CSV with a byte-order mark (so that spreadsheets read the Chinese names), CRLF lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in flat_rows(reports):
        writer.writerow(["" if row.get(c) is None else _text(row.get(c)) for c in COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(reports: Sequence[dict[str, Any]]) -> bytes:
    """A workbook with one sheet per statistic (the rows of :func:`flat_rows`, empty columns left out)."""
    from openpyxl import Workbook  # type: ignore[import-untyped]

    book = Workbook(write_only=True)
    by_sheet: dict[str, list[dict[str, Any]]] = {}
    for row in flat_rows(reports):
        by_sheet.setdefault(row["statistic"], []).append(row)
    for name, rows in by_sheet.items() or {"statistics": []}.items():
        sheet = book.create_sheet(title=name[:31])
        columns = [c for c in COLUMNS if any(r.get(c) is not None for r in rows)] or list(COLUMNS)
        sheet.append(columns)
        for r in rows:
            # strings never start a formula (openpyxl writes a leading "=" as one)
            sheet.append([_text(r.get(c)) for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def table_to_csv(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> bytes:
    """Rows of any table as :func:`to_csv` writes reports (BOM, CRLF, formula-like text neutralised)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else _text(row.get(c)) for c in columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def table_to_xlsx(sheet_name: str, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> bytes:
    """Rows of any table as one sheet, as :func:`to_xlsx` writes reports."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=sheet_name[:31])
    sheet.append(list(columns))
    for r in rows:
        sheet.append([_text(r.get(c)) for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
