"""The certificates list ``/web/certificates``: filter by number, status, kind and instrument, sort by any
column, export what the filter selects as CSV or XLSX (:mod:`hengqi.server.web.tables`), and keep the filter and
sort as a saved view (:mod:`hengqi.server.web.saved_views`, list key ``certificates``).

The page's query and a saved view's parameters go through the same check (:func:`check_query`), so a view is
refused on save, and not applied on use, exactly where the list itself would refuse its query.  What the list
shows is scoped by the reader's organisation (:func:`hengqi.server.services.base.scoped_select`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final, get_args
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import and_
from sqlalchemy.sql import Select

from hengqi.errors import InputError
from hengqi.server.db.models import Certificate, Instrument
from hengqi.server.permissions import Principal
from hengqi.server.schemas.workflow import CertificateKind, CertificateStatus
from hengqi.server.services import guided_runs
from hengqi.server.services.base import scoped_select
from hengqi.server.web import saved_views
from hengqi.server.web.common import PREFIX, app_state, render, viewer
from hengqi.server.web.tables import export_format, table_response

router = APIRouter()
Text = Annotated[str, Query(max_length=100)]
#: rows the page shows; an export takes up to :data:`EXPORT_LIMIT`
PAGE_LIMIT: Final = 200
EXPORT_LIMIT: Final = 10_000
STATUSES: Final[tuple[str, ...]] = get_args(CertificateStatus)
KINDS: Final[tuple[str, ...]] = get_args(CertificateKind)
#: sortable columns (``-`` before one sorts descending); ``instrument`` sorts by make, model and serial
SORTS: Final = ("id", "number", "kind", "instrument", "status", "issued_at")
PARAMETERS: Final = frozenset({"q", "status", "kind", "instrument_id", "sort"})
DEFAULT_SORT: Final = "-id"


def check_query(params: Mapping[str, str]) -> dict[str, str]:
    """The certificates list's parameters (empty ones dropped), checked as the list checks its own query;
    :class:`InputError` naming the first that does not fit.

    >>> check_query({"status": "issued", "sort": "-number", "q": ""})
    {'status': 'issued', 'sort': '-number'}
    >>> check_query({"sort": "file_sha256"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hengqi.errors.InputError: ...cannot sort on 'file_sha256'...
    """
    found = saved_views.only(params, PARAMETERS)
    if len(found.get("q", "")) > 100:
        raise InputError("q", "longer than 100 characters")
    for name, options in (("status", STATUSES), ("kind", KINDS)):
        if name in found and found[name] not in options:
            raise InputError(name, f"not one of {', '.join(options)}")
    key = found.get("instrument_id", "")
    if key and not (key.isascii() and key.isdigit() and 0 < int(key) < 2**31):
        raise InputError("instrument_id", "not a record number")
    sort = found.get("sort", DEFAULT_SORT)
    if sort.removeprefix("-") not in SORTS:
        raise InputError("sort", f"cannot sort on {sort[:40]!r} (sortable: {', '.join(SORTS)})")
    return found


saved_views.register(saved_views.ListSpec("certificates", f"{PREFIX}/certificates", check_query, "nav.certificates"))


def _statement(principal: Principal, params: Mapping[str, str]) -> Select[Any]:
    statement = scoped_select(principal, Certificate).outerjoin(
        Instrument,
        and_(
            Instrument.id == Certificate.instrument_id,
            Instrument.organisation_id == Certificate.organisation_id,
            Instrument.deleted_at.is_(None),
        ),
    )
    if q := params.get("q", "").strip():
        pattern = "%" + q.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(Certificate.number.ilike(pattern, escape="\\"))
    if status := params.get("status"):
        statement = statement.where(Certificate.status == status)
    if kind := params.get("kind"):
        statement = statement.where(Certificate.kind == kind)
    if key := params.get("instrument_id"):
        statement = statement.where(Certificate.instrument_id == int(key))
    sort = params.get("sort", DEFAULT_SORT)
    name, descending = sort.removeprefix("-"), sort.startswith("-")
    columns: list[Any] = (
        [Instrument.make, Instrument.model, Instrument.serial] if name == "instrument" else [getattr(Certificate, name)]
    )
    order = [c.desc() if descending else c.asc() for c in columns]
    tie = Certificate.id.desc() if descending else Certificate.id.asc()
    return statement.order_by(*order, tie)


@router.get("/certificates", response_model=None)
def certificate_list(
    request: Request,
    *,
    q: Text = "",
    status: Annotated[str, Query(max_length=20)] = "",
    kind: Annotated[str, Query(max_length=20)] = "",
    instrument_id: Annotated[str, Query(max_length=12)] = "",
    sort: Annotated[str, Query(max_length=40)] = "",
    export: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    who = viewer(request)
    if (default := saved_views.default_redirect(request, who, "certificates")) is not None:
        return default
    params = check_query({"q": q, "status": status, "kind": kind, "instrument_id": instrument_id, "sort": sort})
    fmt = export_format(export)
    with app_state(request).database.read_session() as session:
        statement = _statement(who.principal, params)
        if fmt is not None:
            rows = session.execute(statement.add_columns(Instrument).limit(EXPORT_LIMIT)).all()
            header = ["id", "number", "kind", "instrument_id", "instrument", "status", "issued_at", "supersedes_id"]
            cells = [
                [
                    c.id,
                    c.number,
                    c.kind,
                    c.instrument_id,
                    f"{i.make} {i.model} {i.serial}" if i is not None else "",
                    c.status,
                    c.issued_at,
                    c.supersedes_id,
                ]
                for c, i in rows
            ]
            return table_response("certificates", header, cells, fmt)
        items = list(session.scalars(statement.limit(PAGE_LIMIT)))
        ids = sorted({c.instrument_id for c in items})
        instruments = {
            i.id: i for i in session.scalars(scoped_select(who.principal, Instrument).where(Instrument.id.in_(ids)))
        }
        guided = {
            g.certificate_id: g.run_id
            for g in guided_runs.list_runs(session, who.principal, limit=1000)
            if g.certificate_id is not None
        }
    base = urlencode(params)
    page = render(
        request,
        "certificates.html",
        who,
        items=items,
        instruments=instruments,
        guided=guided,
        f={name: params.get(name, "") for name in PARAMETERS},
        sort=params.get("sort", DEFAULT_SORT),
        sorts=SORTS,
        statuses=STATUSES,
        kinds=KINDS,
        filter_query=urlencode({k: v for k, v in params.items() if k != "sort"}),
        export_url=f"{PREFIX}/certificates?{base + '&' if base else ''}export=",
        shown_limit=PAGE_LIMIT,
        nav="certificates",
        **saved_views.context(request, who, "certificates"),
    )
    return saved_views.shown(page)
