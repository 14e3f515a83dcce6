"""Fair share for sign-in requests: a rate, a few lanes, a bounded queue, and 429 for the rest.

A flood of sign-in requests (tens of concurrent clients, each sending the next guess as soon as the last one is
answered) would otherwise keep the server's event loop busy even when every guess is refused cheaply by the
throttle (:mod:`hengqi.server.throttle`): measured on two cores, 200 refused guesses from 20 clients made ordinary
reads 5 to 10 times slower, because the reads' worker threads wait for the interpreter lock behind a loop that is
never idle.  This ASGI middleware, the outermost one, sits in front of the sign-in routes (``POST`` to
:data:`LOGIN_PATHS`):

* sign-ins are admitted at ``rate`` per second (``login_rate_per_s``, 20) with a burst of as many (a generic cell
  rate algorithm); the rest wait for their turn as a timer of the event loop, holding no thread;
* at most ``lanes`` (``login_workers``, 2) are handled at once;
* at most ``queue`` (``login_queue``, 64) wait; any further one is answered at once with 429 and
  ``Retry-After: 1``, before its body is read;
* an API sign-in (``POST /api/v1/auth/login``) from an address that has used up its own failures
  (:meth:`hengqi.server.throttle.LoginThrottle.address_retry_after`) is, when its turn at the rate comes, answered
  with the throttle's own 429 (the same body and ``Retry-After`` the sign-in route would give) without a lane and
  before its body is read.  It still waits for its turn: answered at once, a flood would come back all the faster.

Other requests never wait for sign-ins.  The price: during a flood, genuine sign-ins wait their turn too (at most
``queue / rate`` seconds, 3.2 s by default) or are asked to retry.

The effect is measured by ``bench/bench_login_flood.py`` (figures in ``bench/README.md``).
"""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from collections.abc import Callable
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

LOGIN_PATHS: Final = frozenset({"/api/v1/auth/login", "/web/login"})
API_LOGIN_PATH: Final = "/api/v1/auth/login"

_BUSY_JSON: Final = json.dumps(
    {
        "error": {
            "code": "too_many_attempts",
            "message": "too many sign-ins at once; try again in 1 s",
            "details": {"retry_after_s": 1},
        }
    }
).encode("utf-8")
_BUSY_TEXT: Final = b"Too many sign-ins at once; please try again in a second.\n"


class LoginGate:
    """ASGI middleware: sign-in requests take one of ``lanes`` lanes; ``queue`` may wait; more answer 429."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        lanes: int,
        queue: int,
        rate_per_s: float,
        address_locked: Callable[[str], int | None] | None = None,
    ) -> None:
        self.app = app
        self.address_locked = address_locked
        self.lanes = lanes
        self.queue = queue
        self.interval = 1.0 / rate_per_s
        self.tolerance = (max(1, round(rate_per_s)) - 1) * self.interval  # a burst of rate_per_s at once
        self._theoretical = 0.0  # GCRA: when the next admission would be due at the sustained rate
        self._waiting = 0
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.lanes)
        return semaphore

    def _address_wait(self, scope: Scope) -> int | None:
        if self.address_locked is None or scope["path"] != API_LOGIN_PATH:
            return None
        client = scope.get("client")
        return self.address_locked(str(client[0])) if client else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") not in LOGIN_PATHS:
            await self.app(scope, receive, send)
            return
        semaphore = self._semaphore()
        if self._waiting >= self.queue:
            await _busy(scope, send)
            return
        now = time.monotonic()
        due = max(self._theoretical, now)
        self._theoretical = due + self.interval
        delay = due - now - self.tolerance
        self._waiting += 1
        try:
            if delay > 0:
                await asyncio.sleep(delay)  # a timer of the event loop: no thread waits
            wait = self._address_wait(scope)
            if wait is not None:  # its turn came, but its address is out of failures: answered without a lane
                await _locked(send, wait)
                return
            await semaphore.acquire()
        finally:
            self._waiting -= 1
        try:
            await self.app(scope, receive, send)
        finally:
            semaphore.release()


async def _busy(scope: Scope, send: Send) -> None:
    api = str(scope.get("path", "")).startswith("/api/")
    body = _BUSY_JSON if api else _BUSY_TEXT
    media = b"application/json" if api else b"text/plain; charset=utf-8"
    headers = [
        (b"content-type", media),
        (b"content-length", str(len(body)).encode("ascii")),
        (b"retry-after", b"1"),
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _locked(send: Send, retry_after_s: int) -> None:
    """The sign-in route's own answer for a throttled attempt (:class:`hengqi.server.errors.LoginThrottledError`)."""
    body = json.dumps(
        {
            "error": {
                "code": "too_many_attempts",
                "message": f"too many failed sign-ins; try again in {retry_after_s} s",
                "details": {"retry_after_s": retry_after_s},
            }
        }
    ).encode("utf-8")
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
        (b"retry-after", str(retry_after_s).encode("ascii")),
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})
