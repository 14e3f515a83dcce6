"""Bulk import of instruments from a CSV file or an XLSX workbook in the browser: upload, dry run row by row,
then an atomic commit (:mod:`hengqi.server.services.instrument_import`); and the template to fill in, in both
formats.

The dry run's page carries the file's rows as CSV text in its commit form (a workbook is converted, line numbers
kept); the commit plans it again on the server (nothing of the dry run is trusted) and writes every row or none.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from hengqi.errors import HengqiError, InputError
from hengqi.server.api.errors import status_of
from hengqi.server.headers import content_disposition
from hengqi.server.permissions import Permission
from hengqi.server.services import instrument_import, spreadsheets
from hengqi.server.web import lab_messages as _lab_messages  # noqa: F401  (registers the screens' texts)
from hengqi.server.web.common import PREFIX, Viewer, app_state, check_csrf, redirect, render, viewer

router = APIRouter()
#: the most refused and planned rows listed on the dry run's page (the counts cover every row)
SHOWN_ROWS: Final = 2000
_LIMIT: Final = instrument_import.MAX_BYTES + 64 * 1024


def _page(request: Request, who: Viewer, **context: object) -> Response:
    error = context.pop("error", None)
    status = 200 if error is None else status_of(error)  # type: ignore[arg-type]
    return render(
        request,
        "import.html",
        who,
        status,
        error=None if error is None else error.message,  # type: ignore[attr-defined]
        columns=instrument_import.COLUMNS,
        required=instrument_import.REQUIRED,
        nav="import",
        **context,
    )


@router.get("/import", response_class=HTMLResponse)
def import_page(request: Request) -> Response:
    who = viewer(request)
    who.principal.require(Permission.WRITE_REGISTRY)
    return _page(request, who, plan=None)


@router.get("/import/template.csv", response_model=None)
def import_template(request: Request) -> Response:
    viewer(request)
    headers = {"Content-Disposition": content_disposition("instruments-template.csv")}
    return Response(instrument_import.template(), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/import/template.xlsx", response_model=None)
def import_template_xlsx(request: Request) -> Response:
    viewer(request)
    headers = {"Content-Disposition": content_disposition("instruments-template.xlsx")}
    return Response(instrument_import.template_xlsx(), media_type=spreadsheets.XLSX_TYPE, headers=headers)


async def _content(request: Request, who: Viewer) -> tuple[bytes, str]:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > _LIMIT:
        raise InputError("file", f"larger than {instrument_import.MAX_BYTES // (1024 * 1024)} MiB")
    form = await request.form(max_files=1, max_fields=5, max_part_size=_LIMIT)
    token = form.get("csrf_token")
    check_csrf(request, who, token if isinstance(token, str) else None)
    upload = form.get("file")
    if isinstance(upload, UploadFile):
        content = await upload.read(_LIMIT + 1)
        return content, upload.filename or ""
    text = form.get("content")
    if isinstance(text, str) and text:
        return text.encode("utf-8"), ""
    raise InputError("file", "choose a CSV or XLSX file")


@router.post("/import", response_model=None)
async def dry_run(request: Request) -> Response:
    """Say row by row what the import would do; write nothing."""
    who = viewer(request)
    who.principal.require(Permission.WRITE_REGISTRY)
    try:
        content, name = await _content(request, who)
        rows = instrument_import.read_table(content)
        with app_state(request).database.read_session() as session:
            plan = instrument_import.plan(session, who.principal, rows)
    except HengqiError as err:
        if status_of(err) in (403, 404):
            raise
        return _page(request, who, plan=None, error=err)
    listed = [r for r in plan.rows if r.action == "refused"][:SHOWN_ROWS]
    listed += [r for r in plan.rows if r.action != "refused"][: max(0, SHOWN_ROWS - len(listed))]
    return _page(
        request,
        who,
        plan=plan,
        listed=sorted(listed, key=lambda r: r.line),
        content=instrument_import.as_csv(rows) if spreadsheets.is_xlsx(content) else content.decode("utf-8-sig"),
        name=name,
    )


@router.post("/import/commit", response_model=None)
async def commit(request: Request) -> Response:
    """Import every row of the file, or none."""
    who = viewer(request)
    who.principal.require(Permission.WRITE_REGISTRY)
    try:
        content, _name = await _content(request, who)
        rows = instrument_import.read_table(content)
        with app_state(request).database.write_session() as session:
            plan = instrument_import.commit(session, who.principal, rows)
            session.commit()
    except HengqiError as err:
        if status_of(err) in (403, 404):
            raise
        return _page(request, who, plan=None, error=err)
    return redirect(f"{PREFIX}/import?created={plan.count('create')}&changed={plan.count('change')}")
