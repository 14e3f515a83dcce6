"""``GET /api/v1/health``: for load balancers and probes (no authentication)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hengqi.server.api.deps import StateDep
from hengqi.server.db.migrate import head_revision, stored_revision
from hengqi.server.schemas.accounts import HealthPublic
from hengqi.server.state import AppState

router = APIRouter(tags=["health"])


#: The PostgreSQL probe in flight, per app state and event loop (see :func:`health`).
_IN_FLIGHT: dict[tuple[int, int], asyncio.Future[tuple[int, dict[str, Any]]]] = {}


@router.get("/health", response_model=HealthPublic, responses={503: {"model": HealthPublic}})
async def health(state: StateDep) -> JSONResponse:
    """200 when the database answers and its schema is at the packaged head revision; 503 otherwise.

    The head revision is read from the packaged scripts once per process; the database is asked one query (the
    stored revision: it answers, and is at that revision) on an autocommit connection, so on PostgreSQL one round
    trip without BEGIN and ROLLBACK, in a worker thread; on SQLite in place on the event loop (a read of a local
    file).  On PostgreSQL, probes that arrive while one is in flight share its answer (a query begun at most one
    round trip before they arrived) instead of each taking a connection and a thread; nothing is kept once it is
    answered, so every probe after it asks the database again."""
    if state.database.dialect == "sqlite":
        return _answer(*_probe(state))
    key = (id(state), id(asyncio.get_running_loop()))
    pending = _IN_FLIGHT.get(key)
    if pending is None or pending.done():
        pending = asyncio.ensure_future(run_in_threadpool(_probe, state))
        _IN_FLIGHT[key] = pending

        def forget(done: asyncio.Future[tuple[int, dict[str, Any]]]) -> None:
            if _IN_FLIGHT.get(key) is done:
                del _IN_FLIGHT[key]

        pending.add_done_callback(forget)
    return _answer(*await asyncio.shield(pending))


def _answer(status_code: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(status_code=status_code, content=body)


def _probe(state: AppState) -> tuple[int, dict[str, Any]]:
    head = head_revision()
    try:
        revision = stored_revision(state.database.autocommit)  # one query: the database answers, at this revision
    except Exception as err:  # any driver error means "not reachable"
        body = HealthPublic(
            status="unavailable",
            database="unreachable",
            revision=None,
            head=head,
            details={"error": type(err).__name__},
        )
        return 503, body.model_dump()
    ok = revision == head
    body = HealthPublic(
        status="ok" if ok else "migration-pending",
        database=state.database.dialect,
        revision=revision,
        head=head,
    )
    return (200 if ok else 503), body.model_dump()
