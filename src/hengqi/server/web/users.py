"""Users, roles and API tokens from the browser.

The user screens (``/web/users``) are the administrator's, through the API's services
(:mod:`hengqi.server.services.accounts`): create a user, change the role or name, reset the password, deactivate
and reactivate.  A new role, a new password or a deactivation ends the user's browser sessions (the service does
it).  Changes carry the ``row_version`` the form was made from.

The token screen (``/web/tokens``) is every signed-in user's own, as ``/api/v1/auth/tokens`` is: a new token is
shown once, on the answer to the form that made it (never in a URL, and not stored by the browser's cache).
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from hengqi.errors import HengqiError, InputError
from hengqi.server.api.errors import status_of
from hengqi.server.permissions import Permission, Role
from hengqi.server.schemas.accounts import TokenCreate, UserCreate, UserUpdate
from hengqi.server.services import accounts
from hengqi.server.services.base import ListQuery
from hengqi.server.web import lab_messages as _lab_messages  # noqa: F401  (registers the screens' texts)
from hengqi.server.web.common import PREFIX, Viewer, app_state, check_csrf, redirect, render, viewer
from hengqi.server.web.registry_forms import validated

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Csrf = Annotated[str, Form(max_length=200)]
Short = Annotated[str, Form(max_length=200)]
Secret = Annotated[str, Form(max_length=1000)]
ROLES: Final = tuple(r.value for r in Role)


def _users_page(request: Request, who: Viewer, *, error: HengqiError | None = None, values: Any = None) -> Response:
    with app_state(request).database.read_session() as session:
        users = list(accounts.list_users(session, who.principal, ListQuery(sort="username", unpaged=True)).items)
    return render(
        request,
        "users.html",
        who,
        200 if error is None else status_of(error),
        users=users,
        roles=ROLES,
        error=None if error is None else error.message,
        values=values or {},
        nav="users",
    )


@router.get("/users", response_class=HTMLResponse)
def user_list(request: Request) -> Response:
    who = viewer(request)
    who.principal.require(Permission.MANAGE_USERS)
    return _users_page(request, who)


@router.post("/users", response_model=None)
def create_user(
    request: Request,
    *,
    csrf_token: Csrf = "",
    username: Short = "",
    full_name: Short = "",
    role: Short = "",
    password: Secret = "",
) -> Response:
    who = viewer(request)
    check_csrf(request, who, csrf_token)
    who.principal.require(Permission.MANAGE_USERS)
    body = {"username": username.strip(), "full_name": full_name.strip(), "role": role, "password": password}
    try:
        with app_state(request).database.write_session() as session:
            user = accounts.create_user(session, who.principal, validated(UserCreate, body))
            session.commit()
            key = user.id
    except HengqiError as err:
        if status_of(err) in (403, 404):
            raise
        return _users_page(request, who, error=err, values={"username": username, "full_name": full_name, "role": role})
    return redirect(f"{PREFIX}/users/{key}?saved=1")


def _user_page(request: Request, who: Viewer, key: int, *, error: HengqiError | None = None) -> Response:
    with app_state(request).database.read_session() as session:
        user = accounts.get_user(session, who.principal, key)
    return render(
        request,
        "user.html",
        who,
        200 if error is None else status_of(error),
        user=user,
        roles=ROLES,
        error=None if error is None else error.message,
        nav="users",
    )


@router.get("/users/{key}", response_class=HTMLResponse)
def user_page(request: Request, key: Id) -> Response:
    who = viewer(request)
    return _user_page(request, who, key)


def _version(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        raise InputError("row_version", "not a version number")
    return int(text)


def _change(request: Request, who: Viewer, key: int, body: dict[str, Any]) -> Response:
    try:
        with app_state(request).database.write_session() as session:
            accounts.update_user(session, who.principal, key, validated(UserUpdate, body))
            session.commit()
    except HengqiError as err:
        if status_of(err) in (403, 404):
            raise
        return _user_page(request, who, key, error=err)
    return redirect(f"{PREFIX}/users/{key}?saved=1")


@router.post("/users/{key}", response_model=None)
def update_user(
    request: Request,
    key: Id,
    *,
    csrf_token: Csrf = "",
    row_version: Annotated[str, Form(max_length=20)] = "",
    full_name: Short = "",
    role: Short = "",
) -> Response:
    """Change the name and role (a new role ends the user's sessions)."""
    who = viewer(request)
    check_csrf(request, who, csrf_token)
    body = {"full_name": full_name.strip(), "role": role, "row_version": _version(row_version)}
    return _change(request, who, key, body)


@router.post("/users/{key}/active", response_model=None)
def set_active(
    request: Request,
    key: Id,
    *,
    csrf_token: Csrf = "",
    row_version: Annotated[str, Form(max_length=20)] = "",
    active: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Deactivate (ends the user's sessions) or reactivate a user."""
    who = viewer(request)
    check_csrf(request, who, csrf_token)
    if active not in ("true", "false"):
        raise InputError("active", "must be true or false")
    return _change(request, who, key, {"active": active == "true", "row_version": _version(row_version)})


@router.post("/users/{key}/password", response_model=None)
def reset_password(
    request: Request,
    key: Id,
    *,
    csrf_token: Csrf = "",
    row_version: Annotated[str, Form(max_length=20)] = "",
    password: Secret = "",
) -> Response:
    """Set a new password (ends the user's sessions)."""
    who = viewer(request)
    check_csrf(request, who, csrf_token)
    return _change(request, who, key, {"password": password, "row_version": _version(row_version)})


# -- API tokens (one's own) ---------------------------------------------------------------------------------------
def _tokens_page(
    request: Request, who: Viewer, *, new_token: str = "", error: HengqiError | None = None, status: int = 200
) -> Response:
    with app_state(request).database.read_session() as session:
        tokens = accounts.list_tokens(session, who.principal)
    response = render(
        request,
        "tokens.html",
        who,
        status if error is None else status_of(error),
        tokens=tokens,
        new_token=new_token,
        error=None if error is None else error.message,
        nav="tokens",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/tokens", response_class=HTMLResponse)
def token_list(request: Request) -> Response:
    return _tokens_page(request, viewer(request))


@router.post("/tokens", response_model=None)
def create_token(request: Request, csrf_token: Csrf = "", name: Short = "") -> Response:
    """A new token for the signed-in user, shown on this answer only."""
    who = viewer(request)
    check_csrf(request, who, csrf_token)
    try:
        with app_state(request).database.write_session() as session:
            _row, token = accounts.create_token(session, who.principal, validated(TokenCreate, {"name": name}))
            session.commit()
    except HengqiError as err:
        if status_of(err) in (403, 404):
            raise
        return _tokens_page(request, who, error=err)
    return _tokens_page(request, who, new_token=token, status=201)


@router.post("/tokens/{key}/revoke", response_model=None)
def revoke_token(request: Request, key: Id, csrf_token: Csrf = "") -> Response:
    who = viewer(request)
    check_csrf(request, who, csrf_token)
    with app_state(request).database.write_session() as session:
        accounts.revoke_token(session, who.principal, key)
        session.commit()
    return redirect(f"{PREFIX}/tokens?revoked=1")
