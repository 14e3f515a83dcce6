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

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response

from hengqi import __version__
from hengqi.server.api import admin, alerts, auth, health, registry, workflow
from hengqi.server.api.errors import install_error_handlers
from hengqi.server.db.migrate import upgrade
from hengqi.server.field import install_field
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
        (409, "conflicts with the current state"),
        (422, "invalid input; details name the fields"),
    )
}


def api_router() -> APIRouter:
    """Every router of the REST API, under :data:`API_PREFIX`; every operation documents the error answers."""
    router = APIRouter(prefix=API_PREFIX, responses=_ERRORS)
    for module in (health, auth, admin, registry, workflow, alerts):
        router.include_router(module.router)
    return router


def create_app(settings: Settings) -> FastAPI:
    """A new app for ``settings``: makes the data directory, migrates the schema (unless told not to)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    state = AppState.create(settings)
    if settings.auto_migrate:
        upgrade(state.database.engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        state.database.dispose()

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

    @app.middleware("http")
    async def _security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app
