"""Office Open XML workbooks (``.xlsx``, ECMA-376 / ISO/IEC 29500) read and written with openpyxl, for imports
and list exports.

Reading is defensive: an ``.xlsx`` file is a ZIP archive whose members are XML, so a small upload can expand to
gigabytes (a "zip bomb") or hold a sheet of millions of cells.  :func:`read_xlsx` therefore looks at the archive's
directory before openpyxl parses anything (at most :data:`MAX_MEMBERS` members, :data:`MAX_EXPANDED` bytes expanded
in all, no member expanding more than :data:`MAX_RATIO` times), then reads the first sheet in openpyxl's streaming
``read_only`` mode, row by row, stopping at the row and column limits it is given.  Everything wrong with the file
is an :class:`~hengqi.errors.InputError` naming the problem (HTTP 422 on the web).

Writing neutralises text that a spreadsheet would take for a formula (a leading ``'``, as the CSV exports do:
:func:`hengqi.server.api.listing.neutralise`) and writes plain numbers as numbers.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Final

from hengqi.errors import InputError

#: the magic number of a ZIP archive (an ``.xlsx`` file is one)
ZIP_MAGIC: Final = b"PK\x03\x04"
#: the most members, expanded bytes in all, and expansion ratio of one member an uploaded workbook may have
MAX_MEMBERS: Final = 200
MAX_EXPANDED: Final = 100 * 1024 * 1024
MAX_RATIO: Final = 200
#: the MIME type of an ``.xlsx`` workbook
XLSX_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def is_xlsx(content: bytes) -> bool:
    """Whether ``content`` is a ZIP archive (so possibly a workbook) rather than text."""
    return content.startswith(ZIP_MAGIC)


def _check_archive(content: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError, OSError) as err:
        raise InputError("file", "not an XLSX workbook (a damaged ZIP archive)") from err
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise InputError("file", f"an XLSX workbook of more than {MAX_MEMBERS} parts")
        expanded = 0
        for member in members:
            expanded += member.file_size
            if member.file_size > MAX_RATIO * max(member.compress_size, 1024):
                raise InputError(
                    "file", f"part {member.filename[:80]!r} expands more than {MAX_RATIO} times (a ZIP bomb?)"
                )
        if expanded > MAX_EXPANDED:
            raise InputError("file", f"expands to more than {MAX_EXPANDED // (1024 * 1024)} MiB")
        names = {m.filename for m in members}
        if "[Content_Types].xml" not in names or not any(n.startswith("xl/worksheets/") for n in names):
            raise InputError("file", "not an XLSX workbook (no worksheet in the archive)")


def cell_text(value: object) -> str:
    """A cell's value as the text a CSV file would hold: numbers without a spurious exponent, a date (or a
    midnight date-time) as ``YYYY-MM-DD``.

    >>> cell_text(0.01), cell_text(30), cell_text(30.0), cell_text(datetime(2027, 3, 31)), cell_text(None)
    ('0.01', '30', '30', '2027-03-31', '')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        exact = Decimal(repr(value))
        if exact == exact.to_integral_value():
            return str(exact.quantize(Decimal(1)))
        return format(exact, "f")
    if isinstance(value, int):
        return str(value)
    return str(value).strip()


def read_xlsx(content: bytes, *, max_rows: int, max_columns: int) -> list[list[str]]:
    """The rows of the first worksheet of workbook ``content`` as text cells (:func:`cell_text`; a formula gives
    its cached value), trailing empty rows dropped; at most ``max_rows`` rows (the header included) and
    ``max_columns`` columns, else :class:`InputError`."""
    from openpyxl import load_workbook  # type: ignore[import-untyped]
    from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]

    _check_archive(content)
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as err:
        raise InputError("file", f"not a readable XLSX workbook ({type(err).__name__})") from err
    except Exception as err:  # a damaged part's XML: lxml/ElementTree errors are not one family
        raise InputError("file", f"not a readable XLSX workbook ({type(err).__name__})") from err
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise InputError("file", "the workbook has no worksheet")
        rows: list[list[str]] = []
        try:
            for values in sheet.iter_rows(values_only=True):
                if len(rows) >= max_rows:
                    raise InputError("file", f"more than {max_rows - 1} rows")
                cells = [cell_text(v) for v in values]
                while cells and not cells[-1]:
                    cells.pop()
                if len(cells) > max_columns:
                    raise InputError("file", f"row {len(rows) + 1} has more than {max_columns} columns")
                rows.append(cells)
        except InputError:
            raise
        except Exception as err:  # a damaged sheet (bad XML, bad cell reference) while streaming
            raise InputError("file", f"worksheet unreadable at row {len(rows) + 1} ({type(err).__name__})") from err
    finally:
        book.close()
    while rows and not rows[-1]:
        rows.pop()
    return rows


def _cell(value: object) -> object:
    from hengqi.server.api.listing import neutralise

    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    return neutralise(text) if text else None


def cells(values: Iterable[object]) -> list[object]:
    """A row's values as a sheet holds them: text neutralised against formulas, numbers as numbers, dates as ISO
    text; only ``None``, ``int``, ``float`` and ``str`` come out (plain data for :func:`write_cells`)."""
    return [_cell(v) for v in values]


def write_xlsx(header: Sequence[str], rows: Iterable[Sequence[object]], *, sheet: str = "hengqi") -> bytes:
    """A workbook of one sheet: ``header`` in bold, then ``rows`` (text neutralised against formulas, numbers as
    numbers).  Written in openpyxl's streaming ``write_only`` mode."""
    return write_cells(cells(header), (cells(row) for row in rows), sheet=sheet)


def write_cells(header: Sequence[object], rows: Iterable[Sequence[object]], *, sheet: str = "hengqi") -> bytes:
    """:func:`write_xlsx` of values already made plain by :func:`cells` (what a rendering process is sent:
    :mod:`hengqi.server.rendering`)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
    from openpyxl.styles import Font  # type: ignore[import-untyped]

    book = Workbook(write_only=True)
    ws = book.create_sheet(title=sheet[:31])
    bold = Font(bold=True)
    head = []
    for value in header:
        cell = WriteOnlyCell(ws, value=value)
        cell.font = bold
        head.append(cell)
    ws.append(head)
    for row in rows:
        ws.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
