"""Management screens of the registry: customers, sites, instruments, weight sets and their weights.

``/web/registry/{kind}`` lists the records (search, sort by any column, filters, a CSV export of exactly what the
filter shows); ``/web/registry/{kind}/new`` and ``/web/registry/{kind}/{id}`` are the create and edit forms with
the record's history from the audit trail; ``.../retire`` soft-deletes it.  Forms post the session's CSRF token
and, where the API's change takes one, the ``row_version`` the form was made from (a change made meanwhile by
someone else is refused with HTTP 412, as ``If-Match`` is on the API); each post answers with a redirect
(post/redirect/get).  A refused form is shown again with what was typed and the reason, the rule named where the
legal core refused the specification.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Float, cast, func, or_, select
from sqlalchemy.orm import Session

from hengqi.errors import HengqiError, InputError
from hengqi.locale import error_text
from hengqi.server.api.errors import status_of
from hengqi.server.db.models import AuditEntry, Weight
from hengqi.server.errors import NotFoundError
from hengqi.server.permissions import Permission, Principal
from hengqi.server.services import label_sheet, registry
from hengqi.server.services.base import get_scoped, scoped_select
from hengqi.server.web import lab_messages as _lab_messages  # noqa: F401  (registers the screens' texts)
from hengqi.server.web import saved_views
from hengqi.server.web.common import PREFIX, Viewer, app_state, check_csrf, language, redirect, render, viewer
from hengqi.server.web.registry_forms import (
    KINDS,
    REF_MODELS,
    WEIGHT_FIELDS,
    Kind,
    changes,
    create_weight,
    creation,
    form_values,
    shown,
)
from hengqi.server.web.tables import export_format, table_response

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
#: rows a list page shows; the CSV export has every row the filter selects
PAGE_ROWS: Final = 100
#: rows of history shown on a record's page
HISTORY_ROWS: Final = 200
#: the widest "due within" window, days
MAX_DAYS: Final = 3650
#: the most fields a posted form may carry (the largest form has 15)
MAX_FIELDS: Final = 40


def kind_of(slug: str) -> Kind:
    found = KINDS.get(slug)
    if found is None:
        raise NotFoundError("page", slug)
    return found


def _ref_names(session: Session, principal: Principal) -> dict[str, dict[int, str]]:
    """The names of the records a form may refer to, by kind."""
    names: dict[str, dict[int, str]] = {}
    for slug, model in REF_MODELS.items():
        table: Any = model
        rows: Any = session.scalars(scoped_select(principal, table).order_by(table.name, table.id))
        names[slug] = {r.id: r.name for r in rows}
    return names


def _filtered(
    kind: Kind, principal: Principal, q: str, filters: dict[str, str], *, due_days: int | None, sort: str
) -> Any:
    model: Any = kind.model
    statement = scoped_select(principal, model)
    text = q.strip().lower()
    if text:
        like = f"%{text}%"
        statement = statement.where(or_(*(func.lower(getattr(model, a)).like(like) for a in kind.search)))
    for attr, value in filters.items():
        if value == "":
            continue
        column = getattr(model, attr)
        statement = statement.where(column == (int(value) if attr.endswith("_id") else value))
    if due_days is not None:
        horizon = date.today() + timedelta(days=due_days)
        due_columns = [c.attr for c in kind.columns if c.attr.endswith("_due") or c.attr == "due_date"]
        statement = statement.where(or_(*(getattr(model, c) <= horizon for c in due_columns)))
    field = sort.removeprefix("-")
    column = getattr(model, field)
    if field.endswith("_kg"):  # exact decimals are text on SQLite: order by their numeric value
        column = cast(column, Float)
    ordered = column.desc() if sort.startswith("-") else column.asc()
    return statement.order_by(ordered, model.id.asc())


def _days(text: str) -> int | None:
    """The "due within N days" filter: empty (the form's blank field) for none, else 0 to 3650."""
    text = text.strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or int(text) > MAX_DAYS:
        raise InputError("due_within", f"a whole number of days from 0 to {MAX_DAYS}")
    return int(text)


def _filter_fields(kind: Kind) -> dict[str, Any]:
    """The fields a list filters on exactly: selects and references shown as columns."""
    shown_columns = {c.attr for c in kind.columns}
    return {f.name: f for f in kind.fields if f.kind in ("select", "ref") and f.name in shown_columns}


def _has_due(kind: Kind) -> bool:
    return any(c.attr.endswith("_due") or c.attr == "due_date" for c in kind.columns)


def _sort(kind: Kind, sort: str) -> str:
    sortable = ["id", *(c.attr for c in kind.columns)]
    if sort.removeprefix("-") not in sortable:
        raise InputError("sort", f"cannot sort on {sort[:40]!r} (sortable: {', '.join(sortable)})")
    return sort


def check_query(kind: Kind, params: Mapping[str, str]) -> dict[str, str]:
    """The parameters of a saved view of list ``kind``, checked as the list checks its own query (search text,
    sort column, filters, due window); :class:`InputError` naming the first that does not fit."""
    allowed = {"q", "sort", *_filter_fields(kind)} | ({"due_within"} if _has_due(kind) else set())
    found = saved_views.only(params, allowed)
    if len(found.get("q", "")) > 100:
        raise InputError("q", "longer than 100 characters")
    _sort(kind, found.get("sort", "id"))
    _days(found.get("due_within", ""))
    _list_filters(kind, found)
    return found


def _list_filters(kind: Kind, params: Mapping[str, str]) -> dict[str, str]:
    """The exact-match filters of a list: selects and references shown as columns."""
    found: dict[str, str] = {}
    for name, f in _filter_fields(kind).items():
        value = params.get(name, "")
        if len(value) > 20:
            raise InputError(name, "too long")
        if value and f.kind == "ref" and not (value.isascii() and value.isdigit()):
            raise InputError(name, "not a record number")
        if value and f.kind == "select" and value not in f.options:
            raise InputError(name, f"not one of {', '.join(f.options)}")
        found[name] = value
    return found


@router.get("/registry/{slug}", response_model=None)
def record_list(
    request: Request,
    slug: str,
    *,
    q: Annotated[str, Query(max_length=100)] = "",
    sort: Annotated[str, Query(max_length=40)] = "id",
    due_within_text: Annotated[str, Query(alias="due_within", max_length=10)] = "",
    export: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    who = viewer(request)
    kind = kind_of(slug)
    if kind.slug == "weights":
        raise NotFoundError("page", slug)  # weights are listed on their set's page
    list_key = f"registry/{kind.slug}"
    if not export and (default := saved_views.default_redirect(request, who, list_key)) is not None:
        return default
    due_within = _days(due_within_text)
    _sort(kind, sort)
    filters = _list_filters(kind, request.query_params)
    has_due = _has_due(kind)
    with app_state(request).database.read_session() as session:
        statement = _filtered(kind, who.principal, q, filters, due_days=due_within if has_due else None, sort=sort)
        refs = _ref_names(session, who.principal)
        fmt = export_format(export)
        if fmt is not None:
            rows = list(session.scalars(statement))
            return _export(kind, rows, refs, fmt)
        total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
        items = list(session.scalars(statement.limit(PAGE_ROWS)))
    query = request.url.query
    page = render(
        request,
        "registry_list.html",
        who,
        kind=kind,
        items=items,
        total=total,
        shown_rows=len(items),
        refs=refs,
        q=q,
        sort=sort,
        filters=filters,
        due_within=due_within,
        has_due=has_due,
        fields={f.name: f for f in kind.fields},
        export_url=f"{PREFIX}/registry/{slug}?{query + '&' if query else ''}export=",
        list_query="&".join(p for p in query.split("&") if p and not p.startswith(("export=", "size="))),
        label_sheets=label_sheet.SHEETS,
        shown=shown,
        can_write=who.can(Permission.WRITE_REGISTRY),
        nav="registry",
        **saved_views.context(request, who, list_key),
    )
    return saved_views.shown(page)


def _export(kind: Kind, rows: list[Any], refs: dict[str, dict[int, str]], fmt: str) -> Response:
    cells = []
    for row in rows:
        line = [str(row.id)]
        for c in kind.columns:
            value = getattr(row, c.attr)
            line.append(shown(refs.get(c.ref, {}).get(value, value) if c.ref else value))
        cells.append(line)
    return table_response(kind.slug, ["id", *(c.attr for c in kind.columns)], cells, fmt)


def _checker(kind: Kind) -> Callable[[Mapping[str, str]], dict[str, str]]:
    def check(params: Mapping[str, str]) -> dict[str, str]:
        return check_query(kind, params)

    return check


for _kind in KINDS.values():
    if _kind.slug != "weights":
        saved_views.register(
            saved_views.ListSpec(
                f"registry/{_kind.slug}", f"{PREFIX}/registry/{_kind.slug}", _checker(_kind), _kind.title
            )
        )


def history(session: Session, principal: Principal, obj: Any) -> list[dict[str, Any]] | None:
    """The audit trail of ``obj``, newest first (``None``: the role may not read the audit trail, as on the API)."""
    if not principal.can(Permission.READ_AUDIT):
        return None
    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == str(obj.__tablename__), AuditEntry.entity_id == str(obj.id))
        .order_by(AuditEntry.id.desc())
        .limit(HISTORY_ROWS)
    )
    found = []
    for row in rows:
        old, new = json.loads(row.old_values or "{}") or {}, json.loads(row.new_values or "{}") or {}
        keys = [k for k in dict.fromkeys([*new, *old]) if k not in ("row_version", "updated_at")]
        found.append(
            {
                "at": row.at,
                "actor": row.actor,
                "action": row.action,
                "changes": [(k, old.get(k), new.get(k)) for k in keys],
            }
        )
    return found


def _form_page(
    request: Request,
    who: Viewer,
    kind: Kind,
    *,
    obj: Any = None,
    values: dict[str, str] | None = None,
    error: HengqiError | None = None,
    weights: list[Any] | None = None,
    weight_values: dict[str, str] | None = None,
) -> Response:
    state = app_state(request)
    with state.database.read_session() as session:
        refs = _ref_names(session, who.principal)
        trail = history(session, who.principal, obj) if obj is not None else None
        if obj is not None and kind.slug == "weight-sets" and weights is None:
            weights = list(
                session.scalars(
                    scoped_select(who.principal, Weight)
                    .where(Weight.weight_set_id == obj.id)
                    .order_by(Weight.nominal_kg, Weight.id)
                )
            )
    if values is None:
        values = {f.name: shown(getattr(obj, f.column)) if obj is not None else "" for f in kind.fields}
    status = 200 if error is None else status_of(error)
    return render(
        request,
        "registry_form.html",
        who,
        status,
        kind=kind,
        obj=obj,
        values=values,
        error=None if error is None else error_text(language(request), error),
        refs=refs,
        history=trail,
        weights=weights,
        weight_fields=WEIGHT_FIELDS,
        weight_values=weight_values or {f.name: "" for f in WEIGHT_FIELDS},
        shown=shown,
        can_write=who.can(Permission.WRITE_REGISTRY),
        can_delete=who.can(Permission.DELETE_REGISTRY),
        nav="registry",
    )


@router.get("/registry/{slug}/new", response_class=HTMLResponse)
def new_record(request: Request, slug: str) -> Response:
    who = viewer(request)
    kind = kind_of(slug)
    if kind.slug == "weights":
        raise NotFoundError("page", slug)
    who.principal.require(Permission.WRITE_REGISTRY)
    return _form_page(request, who, kind)


async def _form(request: Request, who: Viewer) -> dict[str, Any]:
    form = await request.form(max_fields=MAX_FIELDS, max_files=0)
    data = {k: v for k, v in form.items() if isinstance(v, str)}
    check_csrf(request, who, data.get("csrf_token"))
    return data


def _row_version(data: dict[str, Any]) -> int | None:
    text = str(data.get("row_version", "")).strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        raise InputError("row_version", "not a version number")
    return int(text)


@router.post("/registry/{slug}", response_model=None)
async def create_record(request: Request, slug: str) -> Response:
    who = viewer(request)
    kind = kind_of(slug)
    if kind.slug == "weights":
        raise NotFoundError("page", slug)
    data = await _form(request, who)
    values = form_values(kind.fields, data)
    state = app_state(request)
    try:
        with state.database.write_session() as session:
            obj = kind.create(session, who.principal, creation(kind.fields, values))
            session.commit()
            key = obj.id  # type: ignore[attr-defined]
    except (InputError, HengqiError) as err:
        if status_of(err) in (403, 404):
            raise
        return _form_page(request, who, kind, values=values, error=err)
    return redirect(f"{PREFIX}/registry/{slug}/{key}?saved=1")


def _load(request: Request, who: Viewer, kind: Kind, key: int) -> Any:
    with app_state(request).database.read_session() as session:
        return get_scoped(session, who.principal, kind.model, key)


@router.get("/registry/{slug}/{key}", response_class=HTMLResponse)
def record_page(request: Request, slug: str, key: Id) -> Response:
    who = viewer(request)
    kind = kind_of(slug)
    return _form_page(request, who, kind, obj=_load(request, who, kind, key))


@router.post("/registry/{slug}/{key}", response_model=None)
async def update_record(request: Request, slug: str, key: Id) -> Response:
    who = viewer(request)
    kind = kind_of(slug)
    data = await _form(request, who)
    values = form_values(kind.fields, data)
    version = _row_version(data)
    state = app_state(request)
    try:
        with state.database.write_session() as session:
            obj = get_scoped(session, who.principal, kind.model, key)
            body = changes(kind, obj, values, version)
            kind.update(session, who.principal, key, body)
            session.commit()
    except HengqiError as err:
        if status_of(err) in (403, 404):
            raise
        return _form_page(request, who, kind, obj=_load(request, who, kind, key), values=values, error=err)
    return redirect(f"{PREFIX}/registry/{slug}/{key}?saved=1")


@router.post("/registry/{slug}/{key}/retire", response_model=None)
async def retire_record(request: Request, slug: str, key: Id) -> Response:
    """Soft-delete the record (it stays in the database and the audit trail, and leaves every list)."""
    who = viewer(request)
    kind = kind_of(slug)
    data = await _form(request, who)
    version = _row_version(data)
    back = f"{PREFIX}/registry/{slug}"
    state = app_state(request)
    try:
        with state.database.write_session() as session:
            obj = get_scoped(session, who.principal, kind.model, key)
            if isinstance(obj, Weight):
                back = f"{PREFIX}/registry/weight-sets/{obj.weight_set_id}"
            registry.delete_record(session, who.principal, kind.model, key, expected_version=version)
            session.commit()
    except HengqiError as err:
        if status_of(err) in (403, 404):
            raise
        return _form_page(request, who, kind, obj=_load(request, who, kind, key), error=err)
    return redirect(f"{back}?retired=1")


@router.post("/registry/weight-sets/{key}/weights", response_model=None)
async def add_weight(request: Request, key: Id) -> Response:
    """Add a weight (with its calibration certificate) to set ``key``."""
    who = viewer(request)
    kind = KINDS["weight-sets"]
    data = await _form(request, who)
    values = form_values(WEIGHT_FIELDS, data)
    state = app_state(request)
    try:
        with state.database.write_session() as session:
            create_weight(session, who.principal, key, creation(WEIGHT_FIELDS, values))
            session.commit()
    except HengqiError as err:
        if status_of(err) in (403, 404):
            raise
        return _form_page(request, who, kind, obj=_load(request, who, kind, key), error=err, weight_values=values)
    return redirect(f"{PREFIX}/registry/weight-sets/{key}?saved=1")
