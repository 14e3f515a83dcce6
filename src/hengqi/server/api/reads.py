"""The fast path of a record read by its id (issue 19): authentication and the read in one pass, one query.

A route on this path is ``async`` and depends only on :data:`CallerDep` (no I/O: the request and the app
state).  :func:`read_record` then, in one go:

- with ``Authorization: Bearer <token>``: looks the token up joined to its user and, by an outer join on the
  primary key, to the record (:func:`hengqi.server.services.accounts.principal_and_row`): one query, one round trip
  on PostgreSQL, where before there were the pool's ping, BEGIN, the token's query, the record's query and
  ROLLBACK, each a round trip, and three hops to a worker thread (the token, the route, the session's close);
- with a browser session: the session and its user in one query (a regulator's grants in a second), then the
  record;
- applies the principal's scope (:func:`hengqi.server.services.base.visible_or_404`: 404 for a record that does
  not exist, was deleted, or belongs to an organisation the caller may not see) and answers the public schema
  as JSON with its ETag (:func:`hengqi.server.api.versioning.json_answer`).

Nothing is cached: a revoked token, a deactivated user, an ended session or a withdrawn grant is refused by the
next request, in every worker process.  Where it runs: on SQLite with a token, in place on the event loop (a
read of a local file on a unique index; WAL readers never wait for a writer), which spares the hop to a worker
thread and the wait for the interpreter lock among the request threads; on PostgreSQL (a network round trip)
with a token in one of a few read threads (:mod:`hengqi.server.read_threads`), with a browser session (whose
last use is written now and then) in one worker thread of the default limiter; the reading connection is
autocommit (no BEGIN, no ROLLBACK: :meth:`hengqi.server.db.engine.Database.read_connection`).  :func:`read_as`
does the same for a read of several queries (a page of a list): the principal and the reads on one
connection, in one hop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, TypeVar

from fastapi import Depends, Request, Response
from pydantic import BaseModel
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from hengqi.server.access_log import remember_user
from hengqi.server.api.deps import bearer_token, session_principal, state_of
from hengqi.server.api.versioning import json_answer
from hengqi.server.db.models import Base
from hengqi.server.permissions import Principal
from hengqi.server.read_threads import run_read
from hengqi.server.services import accounts
from hengqi.server.services.base import read_scoped, visible_or_404
from hengqi.server.state import AppState

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks (not yet checked: :func:`read_record` authenticates with the read itself)."""

    request: Request
    state: AppState


async def get_caller(request: Request) -> Caller:
    """The dependency of the fast path; async and without I/O, so FastAPI runs it in place."""
    return Caller(request, state_of(request))


CallerDep = Annotated[Caller, Depends(get_caller)]


def principal_on(caller: Caller, connection: Connection) -> Principal:
    """The caller's principal, read on ``connection``: an API token (one query on its unique index), else the
    browser session (one query; may write the session's last use, so never on the event loop)."""
    request = caller.request
    header = request.headers.get("authorization")
    if header:
        principal = accounts.principal_for_token(connection, bearer_token(header))
    else:
        principal = session_principal(request, caller.state, connection)
    remember_user(request.state, principal.user_id)
    return principal


async def placed(caller: Caller, read: Callable[[], T]) -> T:
    """Run ``read`` where a read of this caller belongs: with a token on SQLite in place (a local file on a
    unique index; WAL readers never wait for a writer); with a token on PostgreSQL in one of the few read
    threads (:mod:`hengqi.server.read_threads`); with a browser session (whose last use is written now and
    then) in a worker thread of the default limiter."""
    if caller.request.headers.get("authorization"):
        if caller.state.database.dialect == "sqlite":
            return read()
        return await run_read(read, threads=caller.state.settings.read_threads)
    return await run_in_threadpool(read)


def _read(caller: Caller, model: type[Base], public: type[BaseModel], key: int, *, versioned: bool) -> Response:
    request, database = caller.request, caller.state.database
    header = request.headers.get("authorization")
    if header:
        token = bearer_token(header)
        reading = database.direct_read() if database.direct_reads else database.read_connection()
        with reading as connection:
            principal, row = accounts.principal_and_row(connection, token, model, key)
        remember_user(request.state, principal.user_id)
        found = visible_or_404(row, principal, model, key)
    else:
        with database.read_connection() as connection:
            principal = session_principal(request, caller.state, connection)
            remember_user(request.state, principal.user_id)
            found = read_scoped(connection, principal, model, key)
    return json_answer(public.model_validate(found), versioned=versioned)


async def read_record(
    caller: Caller, model: type[Base], public: type[BaseModel], key: int, *, versioned: bool = True
) -> Response:
    """The record ``key`` of ``model`` as ``public`` JSON (with its ETag when ``versioned``) if the caller is
    signed in and may see it; 401 or 404 otherwise (see the module's text)."""
    return await placed(caller, partial(_read, caller, model, public, key, versioned=versioned))


async def read_as(caller: Caller, use: Callable[[Connection, Principal], T]) -> T:
    """``use(connection, principal)`` for a signed-in caller (401 otherwise), on one autocommit reading
    connection, in one hop to where the read belongs (:func:`placed`): the principal's lookup and the reads of
    ``use`` share the connection and the thread (a list page: one hop, three queries, no BEGIN or ROLLBACK)."""

    def run() -> T:
        with caller.state.database.read_connection() as connection:
            return use(connection, principal_on(caller, connection))

    return await placed(caller, run)
