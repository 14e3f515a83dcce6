"""Signing in and out of the web interface, and the language switch."""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hengqi.server.errors import AuthenticationError, LoginThrottledError
from hengqi.server.security import CSRF_COOKIE, SESSION_COOKIE, new_csrf_token
from hengqi.server.services import signin
from hengqi.server.services.sessions import end_user_sessions, resolve_session
from hengqi.server.web.common import PREFIX, LoginRequired, app_state, check_csrf, redirect, render, viewer
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
async def login(
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
    try:
        signed = await signin.sign_in(
            state.signin,
            state.database,
            state.signer,
            username=username.strip(),
            password=password,
            address=request.client.host if request.client else "-",
            replaces=request.cookies.get(SESSION_COOKIE),
        )
    except AuthenticationError:
        return _login_page(request, "login.failed", target, 401, username=username.strip())
    except LoginThrottledError as err:
        page = _login_page(request, "login.throttled", target, 429, username=username.strip())
        page.headers["Retry-After"] = str(err.retry_after_s)
        return page
    csrf = signed.session.csrf
    secure, max_age = state.settings.cookie_secure, state.settings.session_max_age_s
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        signed.session.cookie,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, httponly=False, samesite="strict", secure=secure)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)
    return response


@router.post("/logout", response_model=None)
def logout(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Sign out: a signed-in browser must send its CSRF token (a page of another site cannot sign anyone out);
    then every browser session of the user ends on the server and the cookies are cleared."""
    try:
        who = viewer(request)
    except LoginRequired:
        who = None  # no valid session: nothing to end
    if who is not None:
        check_csrf(request, who, csrf_token)
    end_sessions_of_cookie(request)
    response = redirect(f"{PREFIX}/login")
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


def end_sessions_of_cookie(request: Request) -> None:
    """End every session of the user whose valid session cookie ``request`` carries (none: nothing to end)."""
    state = app_state(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    data = resolve_session(state.database, state.signer, cookie, state.settings) if cookie else None
    if data is not None:
        with state.database.write_session() as session:
            end_user_sessions(session, data.user_id, "logout")
            session.commit()


@router.get("/lang/{code}", response_model=None)
def switch_language(code: str, next: str | None = None) -> Response:
    """Choose the interface language (kept in a cookie for a year)."""
    response = redirect(safe_next(next))
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax")
    return response
