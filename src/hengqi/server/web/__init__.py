"""The web interface: server-rendered pages under ``/web`` (Jinja2 templates, one stylesheet, one small script).

:func:`install_web` mounts it on an app made by :func:`hengqi.server.app.create_app`; see ``docs/web.md``.
Errors of the platform met by a page are shown as a page in the user's language (the REST API keeps its JSON
answers); a page asked for without a session sends the browser to the sign-in page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from hengqi.errors import HengqiError
from hengqi.locale import error_text
from hengqi.server.api.errors import status_of
from hengqi.server.services.instrument_links import InstrumentLinks
from hengqi.server.services.instrument_workers import InstrumentWorkers
from hengqi.server.web import (
    audit_view,
    auth,
    certificate_actions,
    certificate_list,
    imports,
    labels,
    manage,
    organisation,
    pages,
    reminders,
    run_actions,
    runs,
    saved_views,
    statistics,
    users,
    verify,
)
from hengqi.server.web.common import HERE, PREFIX, LoginRequired, language, render


def web_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX, include_in_schema=False)
    for module in (
        auth,
        pages,
        runs,
        run_actions,
        statistics,
        manage,
        users,
        audit_view,
        certificate_actions,
        certificate_list,
        imports,
        labels,
        organisation,
        reminders,
        saved_views,
        verify,
    ):
        router.include_router(module.router)
    return router


def _is_web(request: Request) -> bool:
    return request.url.path == PREFIX or request.url.path.startswith(PREFIX + "/")


def install_web(app: FastAPI) -> None:
    """Mount the pages, the static files and the page-friendly error handlers on ``app``."""
    settings = app.state.hengqi.settings
    app.state.hengqi_links = InstrumentLinks()
    app.state.hengqi_workers = InstrumentWorkers(
        workers=settings.instrument_workers,
        per_user=settings.instrument_per_user,
        rate_per_s=settings.instrument_rate_per_s,
    )
    app.include_router(web_router())
    app.mount(f"{PREFIX}/static", StaticFiles(directory=str(HERE / "static")), name="web-static")

    @app.get("/", include_in_schema=False)
    def _root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=307)

    domain = app.exception_handlers.get(HengqiError)
    http = app.exception_handlers.get(StarletteHTTPException)
    validation = app.exception_handlers.get(RequestValidationError)

    async def _page_error(request: Request, error: Exception) -> Any:
        if isinstance(error, LoginRequired):
            target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""), safe="/")
            if request.method == "GET":
                return RedirectResponse(f"{PREFIX}/login?next={target}", status_code=303)
            return RedirectResponse(f"{PREFIX}/login", status_code=303)
        if isinstance(error, HengqiError):
            status = status_of(error)
            message = error_text(language(request), error)
        elif isinstance(error, StarletteHTTPException):
            status, message = error.status_code, str(error.detail)
        elif isinstance(error, RequestValidationError):
            status = 422
            first = error.errors()[0] if error.errors() else {}
            message = f"{'.'.join(str(p) for p in first.get('loc', ()))}: {first.get('msg', 'invalid input')}"
        else:  # pragma: no cover - only the three kinds are registered
            raise error
        return render(request, "error.html", None, status, status=status, message=message)

    def _chain(fallback: Any) -> Any:
        async def handler(request: Request, error: Exception) -> Response:
            if _is_web(request) or isinstance(error, LoginRequired):
                response: Response = await _page_error(request, error)
                return response
            if fallback is None:  # pragma: no cover - the API installs its handlers first
                raise error
            answer: Response = await fallback(request, error)
            return answer

        return handler

    app.add_exception_handler(HengqiError, _chain(domain))
    app.add_exception_handler(StarletteHTTPException, _chain(http))
    app.add_exception_handler(RequestValidationError, _chain(validation))
