"""Due-date reminders and instrument labels.

``/web/due`` lists what falls due within N days (instruments' verification and calibration, weight sets' and
weights' calibration; :func:`hengqi.server.services.registry.overdue`, the dashboard's list), filtered by site,
kind of record and urgency, sorted on any column, with a CSV or XLSX export of what the filter selects, and saved
views (list key ``due``, :mod:`hengqi.server.web.saved_views`; a view is checked by :func:`check_due_query`, the
same check the list applies to its own query).  No e-mail is sent.

``/web/registry/instruments/{id}/label.svg`` is a printable label (62 mm × 29 mm, a common label-printer size) with
the instrument's record number, make, model and serial, status, next verification and calibration dates and its
latest issued certificate, with a QR code of that certificate's public verification page (``/web/verify/...``).

``/web/labels.pdf`` is a sheet of such labels as PDF (:mod:`hengqi.server.services.label_sheet`: Avery L7160,
L7163 or a 62 mm × 29 mm roll), for the instruments named by ``ids`` or else for those the instruments list's
filter selects (same query parameters), at most :data:`MAX_LABELS`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from hengqi.certificates.pdf.qr import svg_path
from hengqi.errors import InputError
from hengqi.server.db.models import Certificate, Instrument, Site
from hengqi.server.headers import content_disposition
from hengqi.server.rendering import off_process
from hengqi.server.services import label_sheet, reminders
from hengqi.server.services.base import get_scoped
from hengqi.server.web import lab_messages as _lab_messages  # noqa: F401  (registers the screens' texts)
from hengqi.server.web import saved_views
from hengqi.server.web.common import PREFIX, app_state, language, public_base, render, verify_url, viewer
from hengqi.server.web.i18n import translate
from hengqi.server.web.tables import export_format, table_response

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
#: label size in millimetres (62 mm continuous tape cut at 29 mm)
LABEL_MM: Final = (62, 29)
#: the most labels one sheet request makes
MAX_LABELS: Final = 1000
#: the due list's window when the query names none
DEFAULT_DAYS: Final = 30


#: the due list's columns that it sorts on (``-`` before one sorts descending); the default keeps the service's
#: order (by due date, then kind of record and record number)
DUE_SORTS: Final = ("due_date", "entity", "name", "due", "status")
DUE_ENTITIES: Final = ("instrument", "weight-set", "weight")
DUE_STATUSES: Final = ("overdue", "due", "ok")
DUE_PARAMETERS: Final = frozenset({"days", "site_id", "entity", "status", "sort"})
#: ``status`` sorts from the most urgent
_URGENCY: Final = {"overdue": 0, "due": 1, "ok": 2}


def _record_number(text: str, name: str) -> int | None:
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and 0 < int(text) < 2**31):
        raise InputError(name, "not a record number")
    return int(text)


def check_due_query(params: Mapping[str, str]) -> dict[str, str]:
    """The due list's parameters (empty ones dropped), checked as the list checks its own query;
    :class:`InputError` naming the first that does not fit.

    >>> check_due_query({"days": "90", "entity": "weight", "sort": "-due_date", "status": ""})
    {'days': '90', 'entity': 'weight', 'sort': '-due_date'}
    >>> check_due_query({"days": "-1"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hengqi.errors.InputError: ...whole number of days from 0 to 3650...
    """
    found = saved_views.only(params, DUE_PARAMETERS)
    days = found.get("days", "")
    if days and not (days.isascii() and days.isdigit() and int(days) <= 3650):
        raise InputError("days", "a whole number of days from 0 to 3650")
    _record_number(found.get("site_id", ""), "site_id")
    for name, options in (("entity", DUE_ENTITIES), ("status", DUE_STATUSES)):
        if name in found and found[name] not in options:
            raise InputError(name, f"not one of {', '.join(options)}")
    sort = found.get("sort", "due_date")
    if sort.removeprefix("-") not in DUE_SORTS:
        raise InputError("sort", f"cannot sort on {sort[:40]!r} (sortable: {', '.join(DUE_SORTS)})")
    return found


saved_views.register(saved_views.ListSpec("due", f"{PREFIX}/due", check_due_query, "due.title"))


def _sorted(items: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    """``items`` (in the service's order) sorted on one column; ties keep the service's order."""
    name = sort.removeprefix("-")
    if name == "due_date":
        return list(reversed(items)) if sort.startswith("-") else items

    def key(item: dict[str, Any]) -> Any:
        value = item[name]
        return _URGENCY[value] if name == "status" else str(value).casefold()

    return sorted(items, key=key, reverse=sort.startswith("-"))


@router.get("/due", response_model=None)
def due_list(
    request: Request,
    *,
    days: Annotated[str, Query(max_length=10)] = "",
    export: Annotated[str, Query(max_length=10)] = "",
    site_id: Annotated[str, Query(max_length=12)] = "",
    entity: Annotated[str, Query(max_length=20)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    sort: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """What falls due within ``days`` (default 30; or is overdue); with ``site_id`` only that site's instruments,
    with ``entity`` / ``status`` only that kind of record / that urgency; sorted on ``sort``."""
    who = viewer(request)
    if (default := saved_views.default_redirect(request, who, "due")) is not None:
        return default
    params = check_due_query({"days": days, "site_id": site_id, "entity": entity, "status": status, "sort": sort})
    within = int(params.get("days", DEFAULT_DAYS))
    site_key = _record_number(params.get("site_id", ""), "site_id")
    today = date.today()
    with app_state(request).database.read_session() as session:
        items = reminders.due_items(session, who.principal, within, today=today, site_id=site_key)
        site = get_scoped(session, who.principal, Site, site_key).name if site_key is not None else None
    items = [
        i
        for i in items
        if i["entity"] == params.get("entity", i["entity"]) and i["status"] == params.get("status", i["status"])
    ]
    current = params.get("sort", "due_date")
    items = _sorted(items, current)
    fmt = export_format(export)
    if fmt is not None:
        header = ["entity", "id", "name", "due", "due_date", "status"]
        cells = [[item[c] for c in header] for item in items]
        return table_response(f"due-within-{within}-days", header, cells, fmt)
    base = urlencode(params)
    page = render(
        request,
        "due.html",
        who,
        items=items,
        days=within,
        today=today,
        site=site,
        site_id=site_key,
        f={name: params.get(name, "") for name in ("entity", "status")},
        entities=DUE_ENTITIES,
        statuses=DUE_STATUSES,
        sort=current,
        sorts=DUE_SORTS,
        filter_query=urlencode({k: v for k, v in params.items() if k != "sort"}),
        export_url=f"{PREFIX}/due?{base + '&' if base else ''}export=",
        nav="due",
        **saved_views.context(request, who, "due"),
    )
    return saved_views.shown(page)


def _latest(session: Session, ids: Sequence[int]) -> dict[int, Certificate]:
    """The latest issued certificate of each instrument of ``ids``."""
    found: dict[int, Certificate] = {}
    for start in range(0, len(ids), 500):
        rows = session.scalars(
            select(Certificate)
            .where(
                Certificate.instrument_id.in_(ids[start : start + 500]),
                Certificate.status == "issued",
                Certificate.deleted_at.is_(None),
            )
            .order_by(Certificate.issued_at.asc(), Certificate.id.asc())
        )
        for row in rows:
            found[row.instrument_id] = row
    return found


def _label(lang: str, instrument: Instrument, latest: Certificate | None, base: str) -> label_sheet.Label:
    def t(key: str) -> str:
        return translate(lang, key)

    status_key = "status." + (instrument.status if instrument.status != "withdrawn" else "withdrawn-instrument")
    lines: tuple[str, ...] = (
        f"{t('col.serial')}: {instrument.serial}   #{instrument.id}",
        f"{t('col.status')}: {t(status_key)}",
        f"{t('spec.verification_due')}: {instrument.verification_due or '—'}",
        f"{t('reg.calibration_due')}: {instrument.calibration_due or '—'}",
        f"{t('res.certificate')}: " + (latest.number if latest is not None else "—"),
    )
    if latest is not None and latest.issued_at is not None:
        lines = (*lines, f"{t('ver.issued')}: {latest.issued_at.date()}")
    link = verify_url(base, latest.organisation_id, latest.number) if latest is not None else None
    return label_sheet.Label(f"{instrument.make} {instrument.model}", lines, link)


def _ids(text: str) -> list[int]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) > MAX_LABELS:
        raise InputError("ids", f"at most {MAX_LABELS} labels at once")
    if not all(p.isascii() and p.isdigit() and 0 < int(p) < 2**31 for p in parts):
        raise InputError("ids", "record numbers separated by commas")
    return [int(p) for p in parts]


@router.get("/labels.pdf", response_model=None)
def label_sheet_pdf(
    request: Request,
    *,
    ids: Annotated[str, Query(max_length=12 * 1000)] = "",
    size: Annotated[str, Query(max_length=10)] = "L7160",
    q: Annotated[str, Query(max_length=100)] = "",
    sort: Annotated[str, Query(max_length=40)] = "id",
    due_within: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """A PDF sheet of labels for the instruments ``ids``, or for what the instruments list's filter selects."""
    from hengqi.server.web.manage import _days, _filtered, _list_filters, kind_of

    who = viewer(request)
    sheet = label_sheet.SHEETS.get(size)
    if sheet is None:
        raise InputError("size", f"not one of {', '.join(label_sheet.SHEETS)}")
    lang = language(request)
    wanted = _ids(ids)
    with app_state(request).database.read_session() as session:
        if wanted:
            instruments = [get_scoped(session, who.principal, Instrument, key) for key in dict.fromkeys(wanted)]
        else:
            kind = kind_of("instruments")
            sortable = ["id", *(c.attr for c in kind.columns)]
            if sort.removeprefix("-") not in sortable:
                raise InputError("sort", f"cannot sort on {sort!r} (sortable: {', '.join(sortable)})")
            statement = _filtered(
                kind, who.principal, q, _list_filters(kind, request), due_days=_days(due_within), sort=sort
            )
            instruments = list(session.scalars(statement.limit(MAX_LABELS + 1)))
            if len(instruments) > MAX_LABELS:
                raise InputError("filter", f"selects more than {MAX_LABELS} instruments; narrow it")
        latest = _latest(session, [i.id for i in instruments])
        base = public_base(request)
        labels = [_label(lang, i, latest.get(i.id), base) for i in instruments]
    if not labels:
        raise InputError("filter", "selects no instrument")
    pdf = off_process(label_sheet.render_sheet, labels, sheet)
    headers = {"Content-Disposition": content_disposition(f"labels-{size}.pdf", disposition="inline")}
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.get("/registry/instruments/{key}/label.svg", response_model=None)
def instrument_label(request: Request, key: Id) -> Response:
    who = viewer(request)
    lang = language(request)
    with app_state(request).database.read_session() as session:
        instrument = get_scoped(session, who.principal, Instrument, key)
        label = _label(lang, instrument, _latest(session, [instrument.id]).get(instrument.id), public_base(request))
    width, height = LABEL_MM
    qr = svg_path(label.link, width - 21.5, height - 21.5, 20.0) if label.link is not None else ""
    texts = [f'<text x="3" y="5.0" font-size="3.6" font-weight="bold">{escape(label.title)}</text>']
    for index, text in enumerate(label.lines):  # beside the QR code (x from 40.5 mm): short lines, small type
        texts.append(f'<text x="3" y="{9.6 + 3.3 * index:.1f}" font-size="2.3">{escape(text)}</text>')
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}mm" height="{height}mm" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif">'
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" rx="1.5" fill="white" stroke="black" '
        f'stroke-width="0.3"/>{"".join(texts)}{qr}</svg>'
    )
    headers = {"Content-Disposition": content_disposition(f"label-{instrument.id}.svg", disposition="inline")}
    return Response(svg, media_type="image/svg+xml", headers=headers)
