"""``GET /api/v1/health``: for load balancers and probes (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hengqi.server.api.deps import StateDep
from hengqi.server.db.migrate import head_revision, stored_revision
from hengqi.server.schemas.accounts import HealthPublic
from hengqi.server.state import AppState

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthPublic, responses={503: {"model": HealthPublic}})
async def health(state: StateDep) -> JSONResponse:
    """200 when the database answers and its schema is at the packaged head revision; 503 otherwise.

    The head revision is read from the packaged scripts once per process; the database is asked one query (the
    stored revision: it answers, and is at that revision) on an autocommit connection, so on PostgreSQL one round
    trip without BEGIN and ROLLBACK, in a worker thread; on SQLite in place on the event loop (a read of a local
    file)."""
    if state.database.dialect == "sqlite":
        return _health(state)
    return await run_in_threadpool(_health, state)


def _health(state: AppState) -> JSONResponse:
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
        return JSONResponse(status_code=503, content=body.model_dump())
    ok = revision == head
    body = HealthPublic(
        status="ok" if ok else "migration-pending",
        database=state.database.dialect,
        revision=revision,
        head=head,
    )
    return JSONResponse(status_code=200 if ok else 503, content=body.model_dump())
