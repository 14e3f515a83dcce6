"""Typed dependencies of the routes (``Annotated`` aliases): app state, database sessions, the principal, lists.

Authentication: ``Authorization: Bearer <API token>`` for machines; otherwise the session cookie of a browser
(a signed random id of a server-side session, :mod:`hengqi.server.services.sessions`), whose unsafe requests
(POST, PUT, PATCH, DELETE) must carry the CSRF token in ``X-CSRF-Token`` matching both the session and the
``hengqi_csrf`` cookie (double submit).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Literal

from fastapi import Depends, Query, Request
from sqlalchemy import Connection
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from hengqi.server.access_log import remember_user
from hengqi.server.errors import AuthenticationError, CsrfError
from hengqi.server.permissions import Principal
from hengqi.server.read_threads import run_read
from hengqi.server.security import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, csrf_matches
from hengqi.server.services import accounts
from hengqi.server.services.base import ListQuery
from hengqi.server.services.sessions import SessionData, SignedIn, resolve_signed_in
from hengqi.server.state import AppState

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def state_of(request: Request) -> AppState:
    state: AppState = request.app.state.hengqi
    return state


async def get_state(request: Request) -> AppState:
    """The dependency form of :func:`state_of`; async, so that FastAPI does not hop to a worker thread for an
    attribute read."""
    return state_of(request)


StateDep = Annotated[AppState, Depends(get_state)]


async def read_session(state: StateDep) -> AsyncIterator[Session]:
    """A reading session, made on the event loop (no I/O: the connection is taken on the first query, in the
    route's worker thread).  Closing it returns the connection to the pool after a rollback: on SQLite a call
    into the library on a local file, done in place; on PostgreSQL a round trip to the server, done in a worker
    thread, unless the session never took a connection (nothing to roll back).  As a sync generator it cost every
    read two hops to a worker thread (entering and leaving)."""
    session = state.database.read_session()
    try:
        yield session
    finally:
        if state.database.dialect == "sqlite" or session.get_transaction() is None:
            session.close()  # SQLite, or nothing to roll back: no I/O
        else:
            await run_in_threadpool(session.close)


def write_session(state: StateDep) -> Iterator[Session]:
    """A session whose transaction takes the write lock first (SQLite); routes commit before answering."""
    with state.database.write_session() as session:
        yield session


ReadSession = Annotated[Session, Depends(read_session)]
WriteSession = Annotated[Session, Depends(write_session)]


def signed_in(request: Request, state: AppState, connection: Connection | None = None) -> SignedIn:
    """The valid server-side session of the request's cookie with its user's columns (one query, on
    ``connection`` if given), CSRF-checked for unsafe methods; 401/403 otherwise.  May write (the session's last
    use, now and then), so never on the event loop."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise AuthenticationError("sign in or send an API token")
    found = resolve_signed_in(state.database, state.signer, cookie, state.settings, connection)
    if found is None:
        raise AuthenticationError("session expired or invalid; sign in again")
    if request.method not in SAFE_METHODS and not csrf_matches(
        found.data.csrf, request.headers.get(CSRF_HEADER), request.cookies.get(CSRF_COOKIE)
    ):
        raise CsrfError(f"missing or wrong {CSRF_HEADER} header")
    return found


def browser_session(request: Request, state: AppState) -> SessionData:
    """The valid server-side session of the request's cookie, CSRF-checked for unsafe methods; 401/403 otherwise."""
    return signed_in(request, state).data


def bearer_token(header: str) -> str:
    """The token of an ``Authorization: Bearer <token>`` header; 401 for any other scheme or an empty token."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("use 'Authorization: Bearer <token>'")
    return token.strip()


def _token_principal(header: str, session: Session) -> Principal:
    return accounts.principal_for_token(session, bearer_token(header))


def session_principal(request: Request, state: AppState, connection: Session | Connection) -> Principal:
    """The principal of the request's browser session: the session and its user in one query, a regulator's
    grants in a second (before: three to four queries)."""
    reading = connection.connection() if isinstance(connection, Session) else connection
    found = signed_in(request, state, reading)
    if not found.active:
        raise AuthenticationError("session is no longer valid")
    return accounts.principal_of_fields(reading, found.data.user_id, found.username, found.role, found.organisation_id)


def _session_principal(request: Request, state: AppState, session: Session) -> Principal:
    return session_principal(request, state, session)


async def current_principal(request: Request, state: StateDep, session: ReadSession) -> Principal:
    """The signed-in user, looked up in the database on every request (never cached in the process: a revoked
    token or an ended session is refused by the next request, in every worker).

    An API token on SQLite is looked up in place on the event loop (one query on a unique index of a local file,
    read-only; WAL readers never wait for a writer), which spares each request a round trip to a worker thread
    (measured in ``bench/bench_throughput.py``).  On PostgreSQL (a network round trip) and for browser sessions
    (whose last use is written now and then) the lookup runs in a worker thread.
    """
    header = request.headers.get("authorization")
    if header and state.database.dialect == "sqlite":
        principal = _token_principal(header, session)
    elif header:  # a read only: one of the few read threads (hengqi.server.read_threads)
        principal = await run_read(partial(_token_principal, header, session), threads=state.settings.read_threads)
    else:
        principal = await run_in_threadpool(_session_principal, request, state, session)
    remember_user(request.state, principal.user_id)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


@dataclass(frozen=True, slots=True)
class ListParams:
    limit: int
    offset: int
    sort: str
    format: Literal["json", "csv"]

    def query(self, **filters: object) -> ListQuery:
        return ListQuery(self.limit, self.offset, self.sort, filters, unpaged=self.format == "csv")


async def list_params(  # async: pure arithmetic, no worker-thread hop
    state: StateDep,
    limit: Annotated[int, Query(ge=1, le=10_000, description="page size")] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    sort: Annotated[str, Query(max_length=40, pattern=r"^-?[a-z_]+$", description="field; '-' for descending")] = "id",
    format: Annotated[Literal["json", "csv"], Query(description="csv: every matching row, unpaged")] = "json",
) -> ListParams:
    return ListParams(min(limit, state.settings.max_page_size), offset, sort, format)


Listing = Annotated[ListParams, Depends(list_params)]
