"""What every page of the web interface shares: templates, language, the signed-in user, CSRF of forms.

Pages use the platform's browser session (the ``hengqi_session`` cookie of a server-side session,
:mod:`hengqi.server.services.sessions`).
Forms carry the session's CSRF token in a hidden ``csrf_token`` field; it must equal the token bound to the
signed session and the ``hengqi_csrf`` cookie (the double-submit check the REST API does with its header).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from hengqi import __version__
from hengqi.errors import HengqiError
from hengqi.server.access_log import remember_user
from hengqi.server.db.models import User
from hengqi.server.errors import CsrfError
from hengqi.server.permissions import Permission, Principal
from hengqi.server.security import CSRF_COOKIE, SESSION_COOKIE, csrf_matches
from hengqi.server.services import accounts
from hengqi.server.services.sessions import resolve_signed_in
from hengqi.server.state import AppState
from hengqi.server.web import i18n
from hengqi.server.web.i18n import LANG_COOKIE, negotiate, translate

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
i18n.install(TEMPLATES.env)
PREFIX = "/web"


class LoginRequired(HengqiError):
    """A page was asked for without a valid session: the browser is sent to the sign-in page."""

    code = "login_required"


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in user of a page, with their session's CSRF token."""

    principal: Principal
    name: str
    csrf: str

    def can(self, permission: str) -> bool:
        return self.principal.can(Permission(permission))


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.hengqi
    return state


def language(request: Request) -> str:
    return negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


def public_base(request: Request) -> str:
    """Where the public reaches this server (``public_url``, else the request's own address), no trailing ``/``:
    the base of the verification links in QR codes."""
    configured = app_state(request).settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


def verify_url(base: str, organisation_id: int, number: str) -> str:
    """The public verification page of certificate ``number`` of an organisation.

    >>> verify_url("https://lab.example", 3, "HQ-CAL-2026-00001")
    'https://lab.example/web/verify/3/HQ-CAL-2026-00001'
    """
    from hengqi.server.services.public_check import verify_path

    return base + verify_path(organisation_id, number)


def viewer(request: Request) -> Viewer:
    """The signed-in user; :class:`LoginRequired` without a valid session."""
    state = app_state(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    with state.database.read_connection() as connection:
        found = resolve_signed_in(state.database, state.signer, cookie, state.settings, connection) if cookie else None
        if found is None or not found.active:  # the session and its user in one query
            raise LoginRequired("sign in")
        data = found.data
        remember_user(request.state, data.user_id)
        principal = accounts.principal_of_fields(
            connection, data.user_id, found.username, found.role, found.organisation_id
        )
    name = found.full_name or found.username
    return Viewer(principal, name, data.csrf)


def check_csrf(request: Request, who: Viewer, token: str | None) -> None:
    """The form's token must match the session's and the CSRF cookie (double submit)."""
    if not csrf_matches(who.csrf, token, request.cookies.get(CSRF_COOKIE)):
        raise CsrfError("missing or wrong CSRF token in the form")


def user_names(request: Request, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    with app_state(request).database.read_session() as session:
        return {u.id: (u.full_name or u.username) for u in session.query(User).filter(User.id.in_(sorted(ids)))}


def render(request: Request, template: str, who: Viewer | None, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page of the interface, in the viewer's language."""
    lang = language(request)

    def t(key: str) -> str:
        return translate(lang, key)

    values = {
        "notices": _notices(request, who) if who is not None else None,
        "request": request,
        "t": t,
        "lang": lang,
        "who": who,
        "prefix": PREFIX,
        "version": __version__,
        "here": quote(str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""), safe="/?=&"),
        **context,
    }
    return TEMPLATES.TemplateResponse(request, template, values, status_code=status_code)


def _notices(request: Request, who: Viewer) -> tuple[int, int] | None:
    """The in-app notification of the header: (overdue or due today, due soon) for the viewer
    (:func:`hengqi.server.services.reminders.notification_counts`); ``None`` where it cannot be counted."""
    from datetime import date

    from hengqi.server.services.reminders import notification_counts

    state = app_state(request)
    try:
        with state.database.read_session() as session:
            return notification_counts(session, who.principal, state.settings.reminder_days, today=date.today())
    except HengqiError:
        return None


def redirect(url: str) -> RedirectResponse:
    """See other (303): the browser fetches ``url`` with GET (post/redirect/get)."""
    return RedirectResponse(url, status_code=303)


#: A one-time message carried across a post/redirect/get (a cookie read and cleared by the next page).
FLASH_COOKIE = "hengqi_flash"
FLASH_MAX = 1000


def flash_redirect(url: str, message: str) -> RedirectResponse:
    """Redirect (303) to ``url`` carrying ``message`` for the next page: after a refused form the browser lands
    on a page fetched with GET, so its back button never asks to resubmit the form."""
    response = redirect(url)
    response.set_cookie(
        FLASH_COOKIE, quote(message[:FLASH_MAX], safe=""), max_age=120, httponly=True, samesite="lax", path=PREFIX
    )
    return response


def take_flash(request: Request) -> str | None:
    """The message a redirect carried (the caller clears it with :func:`clear_flash`)."""
    from urllib.parse import unquote

    value = request.cookies.get(FLASH_COOKIE)
    return unquote(value)[:FLASH_MAX] if value else None


def clear_flash(response: HTMLResponse) -> HTMLResponse:
    response.delete_cookie(FLASH_COOKIE, path=PREFIX)
    return response
