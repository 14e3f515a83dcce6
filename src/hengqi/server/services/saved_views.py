"""Saved views of the web lists: create, rename, share, make default, delete; the views a user sees.

A user sees, for one list, their own views and the views shared with their organisation by its members.  Only a
view's owner renames, shares or deletes it; only the roles that manage the registry (those holding
:attr:`~hengqi.server.permissions.Permission.DELETE_REGISTRY`: quality managers and administrators) may share a
view with the organisation.  Every change is audited (entity ``saved_views``; actions ``create``, ``rename``,
``share``, ``unshare``, ``default`` and ``remove``: a view is deleted, not retired as registry records are).

The service keeps the view's parameters as given: the list that owns them validates them (on save and again on
use, :mod:`hengqi.server.web.saved_views`), and whoever opens a view sees the list with their own role and
organisation, so a view can neither reach another organisation nor widen what its reader may see.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hengqi.errors import InputError
from hengqi.server import audit
from hengqi.server.db.saved_views import SavedView
from hengqi.server.errors import NotFoundError
from hengqi.server.permissions import Permission, Principal
from hengqi.server.services.base import flush_or_conflict

#: the permission that lets a user share a view with the organisation
SHARE: Final = Permission.DELETE_REGISTRY
MAX_NAME: Final = 80
#: the most views one user keeps of one list
MAX_PER_LIST: Final = 50
#: the longest stored query (JSON text)
MAX_QUERY: Final = 2000


def check_name(text: str) -> str:
    """A view's name: 1 to 80 characters, no control characters, spaces at the ends dropped.

    >>> check_name("  Overdue balances ")
    'Overdue balances'
    """
    name = " ".join(text.split())
    if not name:
        raise InputError("name", "a view needs a name")
    if len(name) > MAX_NAME:
        raise InputError("name", f"at most {MAX_NAME} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise InputError("name", "control characters are not allowed")
    return name


def parameters(view: SavedView) -> dict[str, str]:
    """The stored parameters of ``view``; :class:`InputError` where the stored text is not an object of texts
    (a row edited outside the application)."""
    try:
        value = json.loads(view.query)
    except ValueError as err:
        raise InputError("view", "the stored parameters are not readable") from err
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise InputError("view", "the stored parameters are not readable")
    return value


def visible(session: Session, principal: Principal, list_key: str | None = None) -> list[SavedView]:
    """The views ``principal`` sees (of one list, or of every list): their own and those shared with their
    organisation, by list and name."""
    statement = select(SavedView).where(
        SavedView.organisation_id == principal.organisation_id,
        or_(SavedView.user_id == principal.user_id, SavedView.shared.is_(True)),
    )
    if list_key is not None:
        statement = statement.where(SavedView.list_key == list_key)
    return list(session.scalars(statement.order_by(SavedView.list_key, SavedView.name, SavedView.id)))


def usable(session: Session, principal: Principal, view_id: int) -> SavedView:
    """The view ``view_id`` if ``principal`` sees it; :class:`NotFoundError` otherwise (another organisation's
    view, or another user's view that is not shared, is not disclosed)."""
    view = session.get(SavedView, view_id)
    if (
        view is None
        or view.organisation_id != principal.organisation_id
        or (view.user_id != principal.user_id and not view.shared)
    ):
        raise NotFoundError("view", view_id)
    return view


def own(session: Session, principal: Principal, view_id: int) -> SavedView:
    """The view ``view_id`` if ``principal`` owns it; :class:`NotFoundError` otherwise."""
    view = session.get(SavedView, view_id)
    if view is None or view.user_id != principal.user_id or view.organisation_id != principal.organisation_id:
        raise NotFoundError("view", view_id)
    return view


def default_of(session: Session, principal: Principal, list_key: str) -> SavedView | None:
    """The user's default view of ``list_key`` (one of their own, or a shared one they chose), if any."""
    return session.scalar(
        select(SavedView).where(
            SavedView.user_id == principal.user_id,
            SavedView.organisation_id == principal.organisation_id,
            SavedView.list_key == list_key,
            SavedView.is_default.is_(True),
        )
    )


def _snapshot(view: SavedView) -> dict[str, object]:
    return {
        "list": view.list_key,
        "name": view.name,
        "query": view.query,
        "shared": view.shared,
        "default": view.is_default,
    }


def _record(
    session: Session,
    principal: Principal,
    view: SavedView,
    action: str,
    *,
    old: Mapping[str, object] | None,
    new: Mapping[str, object] | None,
) -> None:
    audit.record(
        session,
        actor=principal.actor,
        action=action,
        entity="saved_views",
        entity_id=view.id,
        organisation_id=view.organisation_id,
        old=old,
        new=new,
    )


def create(
    session: Session,
    principal: Principal,
    list_key: str,
    name: str,
    query: Mapping[str, str],
    *,
    shared: bool = False,
    default: bool = False,
) -> SavedView:
    """Save ``query`` (already checked by its list) as ``name``; a name the user already gave a view of this list
    is refused (:class:`~hengqi.server.errors.ConflictError`)."""
    principal.require(Permission.READ)
    if shared:
        principal.require(SHARE)
    name = check_name(name)
    text = json.dumps(dict(query), sort_keys=True, ensure_ascii=False)
    if len(text) > MAX_QUERY:
        raise InputError("query", f"longer than {MAX_QUERY} characters")
    mine = [v for v in visible(session, principal, list_key) if v.user_id == principal.user_id]
    if len(mine) >= MAX_PER_LIST:
        raise InputError("name", f"at most {MAX_PER_LIST} saved views per list; delete one first")
    if any(v.name.casefold() == name.casefold() for v in mine):
        raise InputError("name", f"you already have a view named {name!r} of this list")
    if default:
        _clear_default(session, principal, list_key)
    view = SavedView(
        organisation_id=principal.organisation_id,
        user_id=principal.user_id,
        list_key=list_key,
        name=name,
        query=text,
        shared=shared,
        is_default=default,
    )
    session.add(view)
    flush_or_conflict(session, "saved view (name)")
    _record(session, principal, view, "create", old=None, new=_snapshot(view))
    return view


def _clear_default(session: Session, principal: Principal, list_key: str) -> None:
    found = default_of(session, principal, list_key)
    if found is not None:
        found.is_default = False


def rename(session: Session, principal: Principal, view_id: int, name: str) -> SavedView:
    view = own(session, principal, view_id)
    name = check_name(name)
    if name == view.name:
        return view
    others = [v for v in visible(session, principal, view.list_key) if v.user_id == principal.user_id]
    if any(v.id != view.id and v.name.casefold() == name.casefold() for v in others):
        raise InputError("name", f"you already have a view named {name!r} of this list")
    old = view.name
    view.name = name
    flush_or_conflict(session, "saved view (name)")
    _record(session, principal, view, "rename", old={"name": old}, new={"name": name})
    return view


def share(session: Session, principal: Principal, view_id: int, shared: bool) -> SavedView:
    """Share the user's view with the organisation (or stop sharing it): roles holding :data:`SHARE` only."""
    view = own(session, principal, view_id)
    principal.require(SHARE)
    if view.shared == shared:
        return view
    view.shared = shared
    flush_or_conflict(session, "saved view")
    _record(
        session, principal, view, "share" if shared else "unshare", old={"shared": not shared}, new={"shared": shared}
    )
    return view


def make_default(session: Session, principal: Principal, view_id: int, default: bool) -> SavedView:
    """Open this view (one of the user's own) when the user opens its list without a query, or stop doing so."""
    view = own(session, principal, view_id)
    if view.is_default == default:
        return view
    if default:
        _clear_default(session, principal, view.list_key)
    view.is_default = default
    flush_or_conflict(session, "saved view")
    _record(session, principal, view, "default", old={"default": not default}, new={"default": default})
    return view


def delete(session: Session, principal: Principal, view_id: int) -> str:
    """Delete the user's own view; returns the list it was of."""
    view = own(session, principal, view_id)
    _record(session, principal, view, "remove", old=_snapshot(view), new=None)
    session.delete(view)
    session.flush()
    return view.list_key
