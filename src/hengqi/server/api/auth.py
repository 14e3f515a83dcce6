"""Signing in and out (browser sessions with CSRF), the current user, and API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from hengqi.server.api.deps import CurrentPrincipal, ReadSession, StateDep, WriteSession
from hengqi.server.schemas.accounts import (
    LoginRequest,
    SessionPublic,
    TokenCreate,
    TokenCreated,
    TokenPublic,
    UserPublic,
)
from hengqi.server.security import CSRF_COOKIE, SESSION_COOKIE, SessionData, new_csrf_token
from hengqi.server.services import accounts

router = APIRouter(prefix="/auth", tags=["auth"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post("/login", response_model=SessionPublic)
def login(data: LoginRequest, response: Response, state: StateDep, session: ReadSession) -> SessionPublic:
    """Check the password and set the session cookie (HttpOnly) and the CSRF cookie (readable by scripts)."""
    user = accounts.authenticate(session, data.username, data.password)
    csrf = new_csrf_token()
    secure = state.settings.cookie_secure
    max_age = state.settings.session_max_age_s
    cookie = state.signer.sign(SessionData(user.id, csrf))
    response.set_cookie(SESSION_COOKIE, cookie, max_age=max_age, httponly=True, samesite="lax", secure=secure)
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, httponly=False, samesite="strict", secure=secure)
    return SessionPublic(user=UserPublic.model_validate(user), csrf_token=csrf)


@router.post("/logout", status_code=204)
def logout(response: Response) -> Response:
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
