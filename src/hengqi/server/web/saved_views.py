"""Saved views of the web lists: a signed-in user keeps the filter and sort of a list under a name, picks it
again from the list, shares it with the organisation (quality managers and administrators), renames, deletes it,
and may make one view the list's default.

Each list that offers saved views registers a :class:`ListSpec` (its key, its path and the check of its
parameters: the same rules the list applies to its own query).  A view is checked when it is saved and again
each time it is opened: a view whose parameters no longer fit its list (a column gone, a row edited in the
database) is not applied; the list opens unfiltered with a message naming what is wrong.  A view holds nothing
but parameters: ``GET /web/views/{id}`` redirects to the list with them, and the list scopes what it shows by
the reader's own role and organisation.

Routes: ``POST /web/views`` (save the current list's query), ``GET /web/views`` (the user's views, with rename,
share, default and delete), ``GET /web/views/{id}`` (open), ``POST /web/views/{id}/{rename,share,default,delete}``.
Every form carries the session's CSRF token; every change is audited (:mod:`hengqi.server.services.saved_views`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from hengqi.errors import InputError
from hengqi.server.services import saved_views
from hengqi.server.web.common import (
    PREFIX,
    Viewer,
    app_state,
    check_csrf,
    clear_flash,
    flash_redirect,
    redirect,
    render,
    take_flash,
    viewer,
)

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Text = Annotated[str, Form(max_length=2000)]
#: parameters of a list's address that are not part of a view (the page shown, an export, the view's own mark)
NOT_SAVED: Final = frozenset({"export", "page", "view", "view_problem", "size", "saved", "retired"})


@dataclass(frozen=True, slots=True)
class ListSpec:
    """A list that offers saved views: ``check`` returns the parameters it accepts (empty ones dropped) or raises
    :class:`InputError` naming the parameter that does not fit."""

    key: str
    path: str
    check: Callable[[Mapping[str, str]], dict[str, str]]
    #: the list's title as a term key (:mod:`hengqi.server.web.terms`)
    title: str = ""


LISTS: dict[str, ListSpec] = {}


def register(spec: ListSpec) -> None:
    LISTS[spec.key] = spec


def only(params: Mapping[str, str], allowed: set[str] | frozenset[str]) -> dict[str, str]:
    """``params`` less the empty ones; :class:`InputError` naming the first parameter not in ``allowed``.

    >>> only({"sort": "-max_kg", "q": ""}, {"q", "sort"})
    {'sort': '-max_kg'}
    """
    for name in params:
        if name not in allowed:
            raise InputError("view", f"unknown parameter {name[:40]!r} (this list takes: {', '.join(sorted(allowed))})")
    return {k: v for k, v in params.items() if v != ""}


def query_of(text: str) -> dict[str, str]:
    """The parameters of a list's query string, less :data:`NOT_SAVED`; a parameter given twice is refused."""
    found: dict[str, str] = {}
    for name, value in parse_qsl(text, keep_blank_values=True, max_num_fields=40):
        if name in NOT_SAVED:
            continue
        if name in found:
            raise InputError("view", f"parameter {name[:40]!r} given twice")
        found[name] = value
    return found


def _spec(list_key: str) -> ListSpec:
    spec = LISTS.get(list_key)
    if spec is None:
        raise InputError("list", f"no list {list_key[:40]!r} offers saved views")
    return spec


def context(request: Request, who: Viewer, list_key: str) -> dict[str, Any]:
    """What a list page shows of its saved views: the views the user sees, the current query to save, the view
    picked (``view``), whether the user may share, and a view's problem carried by a redirect."""
    with app_state(request).database.read_session() as session:
        views = saved_views.visible(session, who.principal, list_key)
    current = request.query_params.get("view", "")
    problem = take_flash(request) if request.query_params.get("view_problem") else None
    return {
        "views_list": list_key,
        "saved_views": [(v.id, v.name, v.shared, v.user_id == who.principal.user_id) for v in views],
        "view_query": "&".join(p for p in request.url.query.split("&") if p and p.split("=", 1)[0] not in NOT_SAVED),
        "current_view": int(current) if current.isascii() and current.isdigit() and len(current) < 10 else None,
        "can_share": who.principal.can(saved_views.SHARE),
        "view_problem": problem,
    }


def default_redirect(request: Request, who: Viewer, list_key: str) -> Response | None:
    """Opening a list with no query at all opens the user's default view of it, if they chose one."""
    if request.url.query:
        return None
    with app_state(request).database.read_session() as session:
        found = saved_views.default_of(session, who.principal, list_key)
    return None if found is None else redirect(f"{PREFIX}/views/{found.id}")


def shown(page: Response) -> Response:
    """``page`` with a view's problem message cleared once shown."""
    return clear_flash(page) if isinstance(page, HTMLResponse) else page


@router.get("/views/{key}", response_model=None)
def open_view(request: Request, key: Id) -> Response:
    who = viewer(request)
    with app_state(request).database.read_session() as session:
        view = saved_views.usable(session, who.principal, key)
        name, list_key = view.name, view.list_key
        try:
            spec = _spec(list_key)
            params = spec.check(saved_views.parameters(view))
        except InputError as err:
            back = LISTS[list_key].path if list_key in LISTS else f"{PREFIX}/views"
            return flash_redirect(f"{back}?view_problem=1", f"{name}: {err.message}")
    return redirect(f"{spec.path}?{urlencode({**params, 'view': str(key)})}")


@router.post("/views", response_model=None)
def save_view(
    request: Request,
    *,
    csrf_token: Text = "",
    list_key: Annotated[str, Form(alias="list", max_length=40)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    query: Text = "",
    shared: Annotated[str, Form(max_length=5)] = "",
    default: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    who = viewer(request)
    check_csrf(request, who, csrf_token)
    spec = _spec(list_key)
    params = spec.check(query_of(query))
    with app_state(request).database.write_session() as session:
        view = saved_views.create(
            session, who.principal, spec.key, name, params, shared=bool(shared), default=bool(default)
        )
        session.commit()
        key = view.id
    return redirect(f"{spec.path}?{urlencode({**params, 'view': str(key)})}")


@router.get("/views", response_class=HTMLResponse)
def views_page(request: Request) -> Response:
    who = viewer(request)
    with app_state(request).database.read_session() as session:
        views = saved_views.visible(session, who.principal)
        rows = [
            {
                "id": v.id,
                "name": v.name,
                "list": v.list_key,
                "path": LISTS[v.list_key].path if v.list_key in LISTS else "",
                "title": LISTS[v.list_key].title if v.list_key in LISTS else "",
                "shared": v.shared,
                "default": v.is_default,
                "mine": v.user_id == who.principal.user_id,
            }
            for v in views
        ]
    return render(request, "views.html", who, views=rows, can_share=who.principal.can(saved_views.SHARE), nav="views")


def _change(request: Request, who: Viewer, csrf_token: str, action: Callable[[Any], object]) -> Response:
    check_csrf(request, who, csrf_token)
    with app_state(request).database.write_session() as session:
        action(session)
        session.commit()
    return redirect(f"{PREFIX}/views?saved=1")


@router.post("/views/{key}/rename", response_model=None)
def rename_view(
    request: Request, key: Id, csrf_token: Text = "", name: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    who = viewer(request)
    return _change(request, who, csrf_token, lambda s: saved_views.rename(s, who.principal, key, name))


@router.post("/views/{key}/share", response_model=None)
def share_view(
    request: Request, key: Id, csrf_token: Text = "", shared: Annotated[str, Form(max_length=5)] = ""
) -> Response:
    who = viewer(request)
    on = shared == "1"
    return _change(request, who, csrf_token, lambda s: saved_views.share(s, who.principal, key, on))


@router.post("/views/{key}/default", response_model=None)
def default_view(
    request: Request, key: Id, csrf_token: Text = "", default: Annotated[str, Form(max_length=5)] = ""
) -> Response:
    who = viewer(request)
    on = default == "1"
    return _change(request, who, csrf_token, lambda s: saved_views.make_default(s, who.principal, key, on))


@router.post("/views/{key}/delete", response_model=None)
def delete_view(request: Request, key: Id, csrf_token: Text = "") -> Response:
    who = viewer(request)
    return _change(request, who, csrf_token, lambda s: saved_views.delete(s, who.principal, key))
