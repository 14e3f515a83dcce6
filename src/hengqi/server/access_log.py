"""The access log (off by default; ``HENGQI_ACCESS_LOG=true`` or ``hengqi serve --access-log``).

One line per request on the ``hengqi.access`` logger (to standard error unless the logger is configured
elsewhere): time (UTC), client address, method, path, status, duration in milliseconds and the id of the
authenticated user (``-`` when none)::

    2026-12-07T08:01:02.345Z 127.0.0.1 POST /api/v1/auth/login 401 61.2ms user=-

Never logged: the query string, headers (so no cookies, tokens or CSRF tokens), request or response bodies (so
no passwords).  The user id is set on the request's state by the authentication dependencies
(:data:`USER_ID_KEY`).
"""

from __future__ import annotations

import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any, Final

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOGGER: Final = "hengqi.access"
#: Where the authentication dependencies leave the user id, in the ASGI scope's ``state``.
USER_ID_KEY: Final = "hengqi_user_id"

log = logging.getLogger(LOGGER)


def remember_user(scope_state: Any, user_id: int) -> None:
    """Note the authenticated user of a request for the access log (``request.state``)."""
    setattr(scope_state, USER_ID_KEY, user_id)


class AccessLog:
    """ASGI middleware writing one line per HTTP request to :data:`LOGGER`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = scope.setdefault("state", {})
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            client = scope.get("client")
            address = client[0] if client else "-"
            user = state.get(USER_ID_KEY, "-")
            path = str(scope.get("path", "")).replace("\n", "%0A").replace("\r", "%0D").replace(" ", "%20")
            at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            duration = (time.perf_counter() - started) * 1000
            log.info(
                "%s %s %s %s %d %.1fms user=%s", at, address, scope.get("method", "-"), path, status, duration, user
            )


def install_access_log(app: FastAPI) -> None:
    """Log every request of ``app``; the logger gets a handler on standard error if it has none."""
    app.add_middleware(AccessLog)
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
