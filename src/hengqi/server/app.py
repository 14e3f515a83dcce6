"""The application factory: ``create_app(settings)`` builds one FastAPI app with its own database and files.

Nothing is created at import time: each call makes its own engine, so tests (and several apps in one process)
point wherever they like.

>>> import tempfile
>>> from hengqi.server.settings import Settings
>>> app = create_app(Settings(env="test", data_dir=tempfile.mkdtemp()))
>>> app.title, "/api/v1/health" in app.openapi()["paths"]
('hengqi', True)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from hengqi import __version__
from hengqi.server import audit, rendering
from hengqi.server.access_log import install_access_log
from hengqi.server.api import admin, alerts, auth, health, registry, statistics, workflow
from hengqi.server.api.errors import install_error_handlers
from hengqi.server.db.migrate import upgrade
from hengqi.server.field import install_field
from hengqi.server.headers import SecurityHeaders
from hengqi.server.limits import BodyLimits
from hengqi.server.login_gate import LoginGate
from hengqi.server.schemas.common import ErrorResponse
from hengqi.server.settings import Settings
from hengqi.server.state import AppState
from hengqi.server.web import install_web

API_PREFIX = "/api/v1"


_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in (
        (401, "not authenticated"),
        (403, "not permitted (role, CSRF token, or four-eyes rule)"),
        (404, "no such object, or another organisation's"),
        (409, "conflicts with the current state (e.g. a record frozen by a certificate, a concurrent change)"),
        (412, "If-Match / row_version names a version that is no longer current"),
        (413, "request body too large"),
        (422, "invalid input; details name the fields"),
    )
}


def api_router() -> APIRouter:
    """Every router of the REST API, under :data:`API_PREFIX`; every operation documents the error answers.

    FastAPI tries routes one after the other, and each one tried costs every request that reaches a later one (a
    sizable part of a read's time, measured with ``bench/bench_throughput.py``): the load balancer's probe and the
    registry's reads come first, sign-in and administration last.  The modules' paths are disjoint (their first
    segment differs; ``tests/server/test_read_path.py`` checks it), so the order changes no answer.
    """
    router = APIRouter(prefix=API_PREFIX, responses=_ERRORS)
    for module in (health, registry, workflow, statistics, alerts, auth, admin):
        router.include_router(module.router)
    return router


def serve_openapi_rendered_once(app: FastAPI) -> None:
    """Answer ``GET openapi.json`` with bytes rendered once per process (per ``root_path``) instead of FastAPI's
    ``json.dumps`` of the whole schema on every call; the schema cannot change once the routes are installed."""
    path = app.openapi_url
    original = next((route for route in app.router.routes if isinstance(route, Route) and route.path == path), None)
    if path is None or original is None:  # pragma: no cover - the factory always sets openapi_url
        return
    render = original.endpoint
    rendered: dict[str, bytes] = {}

    async def openapi(request: Request) -> Response:
        root_path = str(request.scope.get("root_path", "")).rstrip("/")
        body = rendered.get(root_path)
        if body is None:
            body = rendered[root_path] = bytes((await render(request)).body)
        return Response(body, media_type="application/json")

    app.router.routes.remove(original)
    app.add_route(path, openapi, include_in_schema=False)


def create_app(settings: Settings) -> FastAPI:
    """A new app for ``settings``: makes the data directory, migrates the schema (unless told not to)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    state = AppState.create(settings)
    rendering.configure(settings.render_processes)
    if settings.auto_migrate:
        upgrade(state.database.engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        workers = getattr(app.state, "hengqi_workers", None)
        if workers is not None:
            workers.close()
        audit.checkpoint_on_shutdown(state.database)
        state.close()

    app = FastAPI(
        title="hengqi",
        version=__version__,
        summary="Registry, verification and calibration records, certificates and audit trail of weighing instruments",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.hengqi = state
    install_error_handlers(app)
    app.include_router(api_router())
    install_web(app)
    install_field(app, api_prefix=API_PREFIX)
    serve_openapi_rendered_once(app)

    # outermost, around Starlette's error middleware too, so that even a 500 answer carries the headers
    inner = app.build_middleware_stack

    app.add_middleware(
        BodyLimits,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        max_json_depth=settings.max_json_depth,
    )

    # outermost: sign-ins get a fair share before any other middleware runs (hengqi.server.login_gate)
    def address_locked(address: str) -> int | None:
        return app.state.hengqi.signin.throttle.address_retry_after(address)  # type: ignore[no-any-return]

    app.add_middleware(
        LoginGate,
        lanes=settings.login_workers,
        queue=settings.login_queue,
        rate_per_s=settings.login_rate_per_s,
        address_locked=address_locked,
    )
    if settings.access_log:
        install_access_log(app)  # outside the gate: its 429s are logged too

    def with_security_headers() -> ASGIApp:
        return SecurityHeaders(inner(), docs_path=f"{API_PREFIX}/docs")

    app.build_middleware_stack = with_security_headers  # type: ignore[method-assign]
    return app
