"""Signing in and out (server-side browser sessions with CSRF), the current user, and API tokens."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from hengqi.server.api.deps import CurrentPrincipal, ReadSession, StateDep, WriteSession, browser_session, state_of
from hengqi.server.errors import AuthenticationError
from hengqi.server.schemas.accounts import (
    LoginRequest,
    SessionPublic,
    TokenCreate,
    TokenCreated,
    TokenPublic,
    UserPublic,
)
from hengqi.server.schemas.common import ErrorResponse
from hengqi.server.security import CSRF_COOKIE, SESSION_COOKIE
from hengqi.server.services import accounts, signin
from hengqi.server.services.sessions import end_user_sessions

router = APIRouter(prefix="/auth", tags=["auth"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


_THROTTLED: dict[int | str, dict[str, Any]] = {
    429: {
        "model": ErrorResponse,
        "description": "too many failed sign-ins for this name or address (see the Retry-After header)",
    }
}


@router.post("/login", response_model=SessionPublic, responses=_THROTTLED)
async def login(data: LoginRequest, request: Request, response: Response) -> SessionPublic:
    """Check the password and start a new server-side session: the session cookie (HttpOnly, SameSite=Lax) and
    the CSRF cookie (readable by scripts).  Throttled per name and per address (429 with ``Retry-After``)."""
    state = state_of(request)
    signed = await signin.sign_in(
        state.signin,
        state.database,
        state.signer,
        username=data.username,
        password=data.password,
        address=request.client.host if request.client else "-",
        replaces=request.cookies.get(SESSION_COOKIE),
    )
    secure = state.settings.cookie_secure
    max_age = state.settings.session_max_age_s
    cookie, csrf = signed.session.cookie, signed.session.csrf
    response.set_cookie(SESSION_COOKIE, cookie, max_age=max_age, httponly=True, samesite="lax", secure=secure)
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, httponly=False, samesite="strict", secure=secure)
    return SessionPublic(user=UserPublic.model_validate(signed.user), csrf_token=csrf)


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, state: StateDep, session: WriteSession) -> Response:
    """Sign out: every browser session of the signed-in user ends (on every device); the cookies are cleared.

    With a session cookie the ``X-CSRF-Token`` header is required (403 without it); API tokens stay valid (revoke
    them with ``DELETE /auth/tokens/{id}``)."""
    if request.cookies.get(SESSION_COOKIE):
        try:
            data = browser_session(request, state)
        except AuthenticationError:
            data = None  # already ended or lapsed: nothing to end
        if data is not None:
            end_user_sessions(session, data.user_id, "logout")
            session.commit()
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    response.status_code = 204
    return response


@router.get("/me", response_model=UserPublic)
def me(principal: CurrentPrincipal, session: ReadSession) -> UserPublic:
    return UserPublic.model_validate(accounts.user_for_session(session, principal.user_id))


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(data: TokenCreate, principal: CurrentPrincipal, session: WriteSession) -> TokenCreated:
    """A new API token for the signed-in user; the token text is in this answer only."""
    row, token = accounts.create_token(session, principal, data)
    session.commit()
    return TokenCreated.model_validate({**TokenPublic.model_validate(row).model_dump(), "token": token})


@router.get("/tokens", response_model=list[TokenPublic])
def list_tokens(principal: CurrentPrincipal, session: ReadSession) -> list[TokenPublic]:
    return [TokenPublic.model_validate(row) for row in accounts.list_tokens(session, principal)]


@router.delete("/tokens/{token_id}", response_model=TokenPublic)
def revoke_token(token_id: Id, principal: CurrentPrincipal, session: WriteSession) -> TokenPublic:
    row = accounts.revoke_token(session, principal, token_id)
    session.commit()
    return TokenPublic.model_validate(row)
