"""Lists as JSON pages or CSV exports."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Sequence
from typing import Any, Final, TypeVar

from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel

from hengqi.server.api.deps import ListParams
from hengqi.server.headers import content_disposition
from hengqi.server.schemas.common import Page
from hengqi.server.services.base import Page as ServicePage

S = TypeVar("S", bound=BaseModel)


#: A cell starting with one of these is taken for a formula by spreadsheets (OWASP "CSV Injection").
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER: Final = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$", re.ASCII)


def neutralise(text: str) -> str:
    """``text`` safe to open in a spreadsheet: a cell that could start a formula gets a leading apostrophe (which
    spreadsheets show as text); a plain number such as ``-0.002`` cannot be a formula and stays as it is.

    >>> neutralise("=HYPERLINK('http://x')"), neutralise("@SUM(A1)"), neutralise("-0.002"), neutralise("-1+1")
    ("'=HYPERLINK('http://x')", "'@SUM(A1)", '-0.002', "'-1+1")
    """
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return neutralise(json.dumps(value, separators=(",", ":"), ensure_ascii=False))
    if isinstance(value, bool):
        return "true" if value else "false"
    return neutralise(str(value))


def csv_response(schema: type[S], rows: Sequence[Any], name: str) -> StreamingResponse:
    """``rows`` (ORM objects) as CSV with ``schema``'s fields as columns, streamed."""
    fields = list(schema.model_fields)

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(fields)
        for start in range(0, len(rows), 500):
            for row in rows[start : start + 500]:
                data = schema.model_validate(row).model_dump(mode="json")
                writer.writerow([_cell(data[f]) for f in fields])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        rest = buffer.getvalue()
        if rest:
            yield rest

    headers = {"Content-Disposition": content_disposition(f"{name}.csv")}
    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers=headers)


def respond(schema: type[S], result: ServicePage[Any], params: ListParams, name: str) -> Response:
    """The page as JSON (``Page[schema]``, serialised once by pydantic) or every row as CSV.

    Answering a :class:`Response` spares FastAPI's second validation of the page against the route's
    ``response_model`` (a worker-thread hop for a sync route) and its own serialisation; the route keeps
    ``response_model=`` for the OpenAPI document."""
    if params.format == "csv":
        return csv_response(schema, result.items, name)
    body = Page[schema](  # type: ignore[valid-type]
        items=[schema.model_validate(item) for item in result.items],
        total=result.total,
        limit=result.limit,
        offset=result.offset,
    )
    return Response(body.model_dump_json(), media_type="application/json")


CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "a page (JSON) or every row (CSV)"}
}
