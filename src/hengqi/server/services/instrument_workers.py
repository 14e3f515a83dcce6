"""A bounded pool for instrument I/O, with a per-user share and rate, so that no scale can starve the server.

Talking to an instrument may block for seconds (a silent device holds a read until its timeout).  Done in the
server's request threads, enough such requests would take every thread and stall everyone's ordinary pages and
API calls.  Connection tests, live readings and instrument steps of guided runs therefore run here instead:

* at most ``workers`` operations run at once and at most as many more wait; beyond that a request is refused at
  once (:class:`~hengqi.server.errors.TooManyRequestsError`, HTTP 429) rather than queued without end;
* one user may have at most ``per_user`` operations admitted at a time, and starts at most ``rate_per_s`` a second
  on average (a token bucket holding ``burst`` tokens), so one person or one script cannot take the whole pool.

The limits are settings (``HENGQI_INSTRUMENT_WORKERS``, ``HENGQI_INSTRUMENT_PER_USER``,
``HENGQI_INSTRUMENT_RATE_PER_S``); see ``docs/security.md``.

>>> pool = InstrumentWorkers(workers=1, per_user=1, rate_per_s=10, burst=10)
>>> pool.call(7, sum, [1, 2, 3])
6
>>> pool.close()
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final, TypeVar

from hengqi.server.errors import TooManyRequestsError

T = TypeVar("T")

#: Users' buckets kept before idle ones are forgotten.
_MAX_TRACKED: Final = 10_000


@dataclass(slots=True)
class _Share:
    tokens: float
    stamp: float
    running: int = 0


class InstrumentWorkers:
    """The instrument I/O pool of one app."""

    def __init__(self, *, workers: int = 8, per_user: int = 3, rate_per_s: float = 3.0, burst: int = 10) -> None:
        if workers < 1 or per_user < 1 or not rate_per_s > 0 or burst < 1:
            raise ValueError("workers, per_user, rate_per_s and burst must be positive")
        self.workers = workers
        self.capacity = 2 * workers  # running plus waiting
        self.per_user = per_user
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hengqi-instrument")
        self._lock = threading.Lock()
        self._admitted = 0
        self._shares: dict[int, _Share] = {}

    @property
    def admitted(self) -> int:
        """Operations running or waiting now."""
        with self._lock:
            return self._admitted

    def _admit(self, user: int, *, rated: bool) -> None:
        now = time.monotonic()
        with self._lock:
            share = self._shares.get(user)
            if share is None:
                if len(self._shares) >= _MAX_TRACKED:
                    self._forget_idle(now)
                share = self._shares[user] = _Share(float(self.burst), now)
            share.tokens = min(float(self.burst), share.tokens + (now - share.stamp) * self.rate_per_s)
            share.stamp = now
            if share.running >= self.per_user:
                raise TooManyRequestsError(
                    f"you have {share.running} instrument operations under way already (at most {self.per_user}); "
                    "try again when they have finished",
                    retry_after_s=2,
                )
            if rated and share.tokens < 1:
                wait = max(1, round((1 - share.tokens) / self.rate_per_s + 0.5))
                raise TooManyRequestsError(
                    f"too many instrument operations (at most {self.rate_per_s:g} a second); try again shortly",
                    retry_after_s=wait,
                )
            if self._admitted >= self.capacity:
                raise TooManyRequestsError(
                    "every instrument connection worker is busy; try again shortly", retry_after_s=2
                )
            if rated:
                share.tokens -= 1
            share.running += 1
            self._admitted += 1

    def _release(self, user: int) -> None:
        with self._lock:
            self._admitted -= 1
            share = self._shares.get(user)
            if share is not None:
                share.running -= 1

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, s in self._shares.items() if s.running == 0]:
            del self._shares[key]

    def submit(self, user: int, fn: Callable[..., T], *args: object, rated: bool = True, **kwargs: object) -> Future[T]:
        """Start ``fn(*args, **kwargs)`` in the pool for ``user``; TooManyRequestsError if refused.

        ``rated=False`` (a step of a guided run, one at a time per run) counts against the pool and the user's
        share of it but not against the user's rate.
        """
        self._admit(user, rated=rated)

        def task() -> T:
            try:
                return fn(*args, **kwargs)
            finally:
                self._release(user)

        try:
            return self._executor.submit(task)
        except RuntimeError:  # the pool is shut down (the app is stopping)
            self._release(user)
            raise TooManyRequestsError("the server is shutting down", retry_after_s=5) from None

    async def run(self, user: int, fn: Callable[..., T], *args: object, rated: bool = True, **kwargs: object) -> T:
        """``fn`` in the pool, awaited without holding a thread of the server."""
        return await asyncio.wrap_future(self.submit(user, fn, *args, rated=rated, **kwargs))

    def call(self, user: int, fn: Callable[..., T], *args: object, rated: bool = True, **kwargs: object) -> T:
        """``fn`` in the pool, waited for (from a route already running in a worker thread)."""
        return self.submit(user, fn, *args, rated=rated, **kwargs).result()

    def close(self) -> None:
        """Stop taking work; operations under way finish on their own (each is bounded by its timeout)."""
        self._executor.shutdown(wait=False, cancel_futures=True)
