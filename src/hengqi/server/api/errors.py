"""The one place where errors become HTTP answers: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from hengqi.errors import HengqiError, InputError
from hengqi.server.errors import (
    AuthenticationError,
    ConflictError,
    LoginThrottledError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    TooManyRequestsError,
)

log = logging.getLogger("hengqi.server")

_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    500: "internal_error",
}


def status_of(error: HengqiError) -> int:
    """The HTTP status of a domain error."""
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, AuthenticationError):
        return 401
    if isinstance(error, PermissionDeniedError):
        return 403
    if isinstance(error, ConflictError):
        return 409
    if isinstance(error, LoginThrottledError):
        return 429
    if isinstance(error, PreconditionFailedError):
        return 412
    if isinstance(error, InputError):
        return 422
    if isinstance(error, TooManyRequestsError):
        return 429
    return 400


def error_response(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    headers: dict[str, str] | None = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 429 and isinstance(details, dict) and "retry_after_s" in details:
        headers = {"Retry-After": str(details["retry_after_s"])}
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(status_code=status, content=body, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HengqiError)
    async def _domain(_request: Request, error: HengqiError) -> JSONResponse:
        details: Any = dict(error.details)
        if isinstance(error, InputError) and error.path:
            details["path"] = error.path
        response = error_response(status_of(error), error.code, error.message, details or None)
        if isinstance(error, LoginThrottledError):
            response.headers["Retry-After"] = str(error.retry_after_s)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [
            {"path": ".".join(str(p) for p in item.get("loc", ())), "reason": str(item.get("msg", ""))}
            for item in error.errors()
        ]
        first = problems[0] if problems else {"path": "", "reason": "invalid request"}
        return error_response(422, "invalid_input", f"{first['path']}: {first['reason']}", problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(error.status_code, f"http_{error.status_code}")
        return error_response(error.status_code, code, str(error.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=error)
        return error_response(500, "internal_error", "internal server error")
