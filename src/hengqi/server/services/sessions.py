"""Server-side browser sessions: started at login, looked up on every request, ended on the server.

The cookie carries a random session id signed with the session key (:class:`hengqi.server.security.SessionSigner`);
the ``browser_sessions`` row holds only the id's SHA-256, so neither a copy of the database nor of a backup yields
a usable cookie.  A session is valid while its row is not ended, its user is active, it was used within the idle
timeout (``session_idle_timeout_s``) and it began within the absolute timeout (``session_max_age_s``).  Logout,
a password change, a role change and deactivation end all of the user's sessions (:func:`end_user_sessions`);
each login starts a new session id (an id planted in a browser before login is never promoted: session fixation).

Timeouts follow OWASP's Session Management Cheat Sheet (idle 15 to 30 minutes, absolute 4 to 8 hours for
applications of this kind; SECONDARY: read from memory of the public cheat sheet, not quoted).

``last_seen_at`` is written at most once per ``min(60 s, idle / 10)``, so reads do not turn into writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.orm import Session

from hengqi.server.db.engine import Database
from hengqi.server.db.models import BrowserSession, User
from hengqi.server.db.types import utcnow
from hengqi.server.security import SessionSigner, new_csrf_token, new_session_id, token_digest
from hengqi.server.settings import Settings

#: Ended and lapsed sessions are kept this long (who was signed in when), then removed at a later login.
KEEP_ENDED: Final = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class SessionData:
    """A valid browser session: its row, whose it is, and its CSRF token."""

    session_id: int
    user_id: int
    csrf: str


@dataclass(frozen=True, slots=True)
class StartedSession:
    """A new session: the cookie value (signed session id) and the CSRF token, both for the browser only."""

    cookie: str
    csrf: str
    data: SessionData


def start_session(
    session: Session, signer: SessionSigner, user_id: int, *, address: str, replaces: str | None = None
) -> StartedSession:
    """A new session for ``user_id`` (inside ``session``'s transaction); ``replaces`` (the cookie the browser sent,
    if any) is ended, so a login always moves the browser to a fresh session id."""
    now = utcnow()
    if replaces is not None:
        old = signer.read(replaces)
        if old is not None:
            session.execute(
                update(BrowserSession)
                .where(BrowserSession.token_sha256 == token_digest(old), BrowserSession.ended_at.is_(None))
                .values(ended_at=now, end_reason="replaced")
            )
    session.execute(delete(BrowserSession).where(BrowserSession.created_at < now - KEEP_ENDED))
    session_id, csrf = new_session_id(), new_csrf_token()
    row = BrowserSession(
        user_id=user_id,
        token_sha256=token_digest(session_id),
        csrf=csrf,
        address=address[:64],
        created_at=now,
        last_seen_at=now,
        end_reason="",
    )
    session.add(row)
    session.flush()
    return StartedSession(signer.sign(session_id), csrf, SessionData(row.id, user_id, csrf))


def find_session(session: Session, signer: SessionSigner, cookie: str, settings: Settings) -> SessionData | None:
    """The valid session of ``cookie`` (without touching it), or ``None``: bad signature, unknown, ended, lapsed."""
    session_id = signer.read(cookie)
    if session_id is None:
        return None
    row = session.scalar(select(BrowserSession).where(BrowserSession.token_sha256 == token_digest(session_id)))
    if row is None or row.ended_at is not None:
        return None
    now = utcnow()
    if now - row.created_at >= timedelta(seconds=settings.session_max_age_s):
        return None
    if now - row.last_seen_at >= timedelta(seconds=settings.session_idle_timeout_s):
        return None
    return SessionData(row.id, row.user_id, row.csrf)


#: A session and its user, by the unique index on ``token_sha256`` (one query; built once).
_SESSION_AND_USER = (
    select(
        BrowserSession.id,
        BrowserSession.user_id,
        BrowserSession.csrf,
        BrowserSession.ended_at,
        BrowserSession.created_at,
        BrowserSession.last_seen_at,
        User.username,
        User.full_name,
        User.role,
        User.organisation_id,
        User.active,
    )
    .join(User, User.id == BrowserSession.user_id)
    .where(BrowserSession.token_sha256 == bindparam("digest"))
)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A valid browser session and its user's columns (``active`` False: the user was deactivated; callers
    refuse the session as :func:`hengqi.server.services.accounts.user_for_session` does)."""

    data: SessionData
    username: str
    full_name: str
    role: str
    organisation_id: int
    active: bool


def resolve_signed_in(
    database: Database,
    signer: SessionSigner,
    cookie: str,
    settings: Settings,
    connection: Connection | None = None,
) -> SignedIn | None:
    """The valid session of ``cookie`` with its user, in one query (on ``connection`` if given, else a pooled
    one), and the session's ``last_seen_at`` moved on when it is older than the touch interval (a write, now and
    then); ``None`` for a bad signature or an unknown, ended or lapsed session."""
    session_id = signer.read(cookie)
    if session_id is None:
        return None
    parameters = {"digest": token_digest(session_id)}
    if connection is None:
        with database.read_connection() as reading:
            row = reading.execute(_SESSION_AND_USER, parameters).one_or_none()
    else:
        row = connection.execute(_SESSION_AND_USER, parameters).one_or_none()
    if row is None or row.ended_at is not None:
        return None
    now = utcnow()
    if now - row.created_at >= timedelta(seconds=settings.session_max_age_s):
        return None
    if now - row.last_seen_at >= timedelta(seconds=settings.session_idle_timeout_s):
        return None
    data = SessionData(row.id, row.user_id, row.csrf)
    interval = timedelta(seconds=min(60.0, settings.session_idle_timeout_s / 10))
    if now - row.last_seen_at >= interval:
        with database.write_session() as writing:
            writing.execute(
                update(BrowserSession)
                .where(BrowserSession.id == data.session_id, BrowserSession.ended_at.is_(None))
                .values(last_seen_at=now)
            )
            writing.commit()
    return SignedIn(data, row.username, row.full_name, row.role, row.organisation_id, row.active)


def resolve_session(database: Database, signer: SessionSigner, cookie: str, settings: Settings) -> SessionData | None:
    """:func:`find_session`, and the session's ``last_seen_at`` moved on when it is older than the touch interval
    (:func:`resolve_signed_in` without the user's columns)."""
    found = resolve_signed_in(database, signer, cookie, settings)
    return None if found is None else found.data


def end_user_sessions(session: Session, user_id: int, reason: str) -> int:
    """End every open session of ``user_id`` (inside ``session``'s transaction); returns how many were open."""
    result = session.execute(
        update(BrowserSession)
        .where(BrowserSession.user_id == user_id, BrowserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason[:32])
    )
    return int(getattr(result, "rowcount", 0) or 0)
