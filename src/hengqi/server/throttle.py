"""Sign-in throttling: per account name and per client address, exponential lockout, decided before hashing.

Policy (defaults in :class:`~hengqi.server.settings.Settings`): failures are counted per account name as typed
(known or not: an unknown name is throttled exactly like a known one, so the answers do not tell them apart) and per
client address.  Failures older than the window (15 min) since the last one are forgotten.  After ``limit``
failures (5 per name, 20 per address) the key is locked for ``lockout_s`` (60 s), doubling with each further
failure up to ``lockout_max_s`` (15 min).  A successful sign-in clears the name's count (not the address's).

A locked attempt is answered at once (HTTP 429 with ``Retry-After``), before the user is looked up and before any
password hash is computed, and no request worker ever sleeps: a flood costs the server one dictionary look-up per
request.  Attempts in flight count as failures until they finish, so a burst of parallel guesses cannot run more
password checks than the limit allows.  The state is in memory, per server process (one uvicorn worker); it
holds at most ``max_keys`` keys (the oldest idle ones are dropped first).

Design after OWASP's Authentication Cheat Sheet ("account lockout", "login throttling"; SECONDARY: from memory of
the public text) and NIST SP 800-63B, 5.2.2 (rate limiting of authentication attempts; SECONDARY: not re-read).

>>> clock = [0.0]
>>> throttle = LoginThrottle(account_limit=2, address_limit=100, window_s=900, lockout_s=60, lockout_max_s=900,
...                          clock=lambda: clock[0])
>>> for _ in range(2):
...     throttle.begin("alice", "10.0.0.1").finish(success=False)
>>> throttle.retry_after("alice", "10.0.0.2")  # locked for 60 s, from any address
60
>>> clock[0] = 61.0
>>> throttle.retry_after("alice", "10.0.0.2") is None
True
>>> throttle.begin("alice", "10.0.0.2").finish(success=False)
>>> throttle.retry_after("alice", "10.0.0.2")  # third failure: 120 s
120
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from hengqi.server.errors import LoginThrottledError


@dataclass(slots=True)
class _Count:
    failures: int = 0
    last_failure: float = 0.0
    pending: int = 0


_KEYS_DEFAULT: Final = 50_000


class Attempt:
    """One sign-in attempt let through :meth:`LoginThrottle.begin`; :meth:`finish` must be called exactly once."""

    def __init__(self, throttle: LoginThrottle, keys: tuple[str, str]) -> None:
        self._throttle = throttle
        self._keys = keys
        self._done = False

    def finish(self, *, success: bool) -> None:
        """Count the attempt: a failure, or a success (which clears the name's failures)."""
        if not self._done:
            self._done = True
            self._throttle._finish(self._keys, success)

    def cancel(self) -> None:
        """The attempt was not decided (the server was too busy, or the client went away): count nothing."""
        if not self._done:
            self._done = True
            self._throttle._finish(self._keys, None)


class LoginThrottle:
    """Counts of failed sign-ins per name and per address (thread-safe; see the module's text for the policy)."""

    def __init__(
        self,
        *,
        account_limit: int,
        address_limit: int,
        window_s: float,
        lockout_s: float,
        lockout_max_s: float,
        max_keys: int = _KEYS_DEFAULT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = {"name": account_limit, "addr": address_limit}
        self._window_s = window_s
        self._lockout_s = lockout_s
        self._lockout_max_s = lockout_max_s
        self._max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[str, _Count] = {}

    @staticmethod
    def _keys(username: str, address: str) -> tuple[str, str]:
        return (f"name:{username.strip().casefold()}", f"addr:{address}")

    def _limit(self, key: str) -> int:
        return self._limits[key.partition(":")[0]]

    def _wait(self, key: str, now: float) -> float:
        """Seconds until ``key`` may try again (0: now)."""
        count = self._counts.get(key)
        if count is None:
            return 0.0
        if count.pending == 0 and now - count.last_failure > self._window_s:
            del self._counts[key]
            return 0.0
        over = count.failures - self._limit(key)
        if over >= 0:
            lock = min(self._lockout_s * 2.0 ** min(over, 60), self._lockout_max_s)
            left = count.last_failure + lock - now
            if left > 0:
                return left
        if count.failures + count.pending >= self._limit(key) and count.pending > 0:
            return 1.0  # the attempts in flight decide; ask again in a second
        return 0.0

    def retry_after(self, username: str, address: str) -> int | None:
        """Whole seconds to wait before ``username`` may try from ``address``; ``None`` when it may try now."""
        with self._lock:
            now = self._clock()
            wait = max(self._wait(key, now) for key in self._keys(username, address))
        return max(1, math.ceil(wait)) if wait > 0 else None

    def address_retry_after(self, address: str) -> int | None:
        """Whole seconds before any name may try from ``address`` (its own limit reached); ``None`` otherwise.
        Used before a sign-in's body is read (:mod:`hengqi.server.login_gate`)."""
        with self._lock:
            wait = self._wait(f"addr:{address}", self._clock())
        return max(1, math.ceil(wait)) if wait > 0 else None

    def begin(self, username: str, address: str) -> Attempt:
        """Let one attempt through, or raise :class:`LoginThrottledError` (before any password work)."""
        keys = self._keys(username, address)
        with self._lock:
            now = self._clock()
            wait = max(self._wait(key, now) for key in keys)
            if wait > 0:
                raise LoginThrottledError(max(1, math.ceil(wait)))
            self._make_room()
            for key in keys:
                self._counts.setdefault(key, _Count()).pending += 1
        return Attempt(self, keys)

    def _finish(self, keys: tuple[str, str], success: bool | None) -> None:
        with self._lock:
            now = self._clock()
            for key in keys:
                count = self._counts.setdefault(key, _Count())
                count.pending = max(0, count.pending - 1)
                if success:
                    if key.startswith("name:"):
                        count.failures = 0
                elif success is False:  # None: cancelled, neither a success nor a failure
                    if now - count.last_failure > self._window_s:
                        count.failures = 0
                    count.failures += 1
                    count.last_failure = now
                if count.failures == 0 and count.pending == 0:
                    del self._counts[key]

    def failures(self, username: str, address: str) -> tuple[int, int]:
        """The current failure counts of the name and of the address."""
        with self._lock:
            found = [self._counts.get(key) for key in self._keys(username, address)]
        return (found[0].failures if found[0] else 0, found[1].failures if found[1] else 0)

    def _make_room(self) -> None:
        """Keep at most ``max_keys`` keys: forget the lapsed ones, then the oldest idle ones."""
        if len(self._counts) < self._max_keys:
            return
        now = self._clock()
        for key in [k for k, c in self._counts.items() if c.pending == 0 and now - c.last_failure > self._window_s]:
            del self._counts[key]
        if len(self._counts) < self._max_keys:
            return
        idle = sorted((c.last_failure, k) for k, c in self._counts.items() if c.pending == 0)
        for _at, key in idle[: len(self._counts) - self._max_keys + self._max_keys // 10 + 1]:
            del self._counts[key]
