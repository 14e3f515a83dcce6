"""Signing in and out of the web interface, and the language switch."""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hengqi.server.errors import AuthenticationError
from hengqi.server.security import CSRF_COOKIE, SESSION_COOKIE, SessionData, new_csrf_token
from hengqi.server.services import accounts
from hengqi.server.web.common import PREFIX, app_state, redirect, render
from hengqi.server.web.i18n import LANG_COOKIE, LANGUAGES

router = APIRouter()
LOGIN_CSRF_COOKIE = "hengqi_login_csrf"


def safe_next(target: str | None) -> str:
    """Only a path of this site (no scheme, no host) may be the page after signing in."""
    if not target:
        return f"{PREFIX}/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return f"{PREFIX}/"
    return target


def _login_page(
    request: Request, error: str | None, next_url: str, status: int = 200, *, username: str = ""
) -> HTMLResponse:
    """The sign-in page; after a wrong password the user name typed is kept (only the password is asked again)."""
    token = new_csrf_token()
    response = render(
        request, "login.html", None, status, error=error, next_url=next_url, login_csrf=token, username=username
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=app_state(request).settings.cookie_secure,
        path=PREFIX,
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return _login_page(request, None, safe_next(next))


@router.post("/login", response_model=None)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    login_csrf: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Check the password; set the session cookie (HttpOnly) and the CSRF cookie, as the REST API's login does."""
    state = app_state(request)
    target = safe_next(next)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not expected or not hmac.compare_digest(expected, login_csrf):
        return _login_page(request, "login.expired", target, 403)
    with state.database.read_session() as session:
        try:
            user = accounts.authenticate(session, username.strip(), password)
        except AuthenticationError:
            return _login_page(request, "login.failed", target, 401, username=username.strip())
    csrf = new_csrf_token()
    secure, max_age = state.settings.cookie_secure, state.settings.session_max_age_s
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        state.signer.sign(SessionData(user.id, csrf)),
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, httponly=False, samesite="strict", secure=secure)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)
    return response


@router.post("/logout", response_model=None)
def logout() -> Response:
    response = redirect(f"{PREFIX}/login")
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


@router.get("/lang/{code}", response_model=None)
def switch_language(code: str, next: str | None = None) -> Response:
    """Choose the interface language (kept in a cookie for a year)."""
    response = redirect(safe_next(next))
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax")
    return response
