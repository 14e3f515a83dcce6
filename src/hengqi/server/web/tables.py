"""Exports of a list page as CSV or XLSX: the same header and rows in either format, text neutralised against
formula injection (:func:`hengqi.server.api.listing.neutralise`), the file named for download.  A workbook is
written in a rendering process (:mod:`hengqi.server.rendering`: 10 000 rows hold the interpreter for about 2.4 s).

>>> formats()
('csv', 'xlsx')
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Final

from fastapi.responses import Response

from hengqi.errors import InputError
from hengqi.server.api.listing import neutralise
from hengqi.server.headers import content_disposition
from hengqi.server.rendering import off_process
from hengqi.server.services.spreadsheets import XLSX_TYPE, cells, write_cells

FORMATS: Final = ("csv", "xlsx")


def formats() -> tuple[str, ...]:
    return FORMATS


def export_format(text: str) -> str | None:
    """The ``export`` query parameter: empty for the page itself, else one of :data:`FORMATS`."""
    if not text:
        return None
    if text not in FORMATS:
        raise InputError("export", f"not one of {', '.join(FORMATS)}")
    return text


def table_response(name: str, header: Sequence[str], rows: Iterable[Sequence[object]], fmt: str) -> Response:
    """``rows`` under ``header`` as the file ``name.csv`` or ``name.xlsx``."""
    if fmt == "xlsx":
        headers = {"Content-Disposition": content_disposition(f"{name}.xlsx")}
        body = off_process(write_cells, cells(header), [cells(row) for row in rows], sheet=name)
        return Response(body, media_type=XLSX_TYPE, headers=headers)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise("" if c is None else str(c)) for c in row])
    headers = {"Content-Disposition": content_disposition(f"{name}.csv")}
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
