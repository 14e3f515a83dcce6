"""Sign-in throttling: per account name and per client address, exponential lockout, decided before hashing.

Policy (defaults in :class:`~hengqi.server.settings.Settings`): failures are counted per account name as typed
(known or not: an unknown name is throttled exactly like a known one, so the answers do not tell them apart) and per
client address.  Failures older than the window (15 min) since the last one are forgotten.  After ``limit``
failures (5 per name, 20 per address) the key is locked for ``lockout_s`` (60 s), doubling with each further
failure up to ``lockout_max_s`` (15 min).  A successful sign-in clears the name's count (not the address's).

A locked attempt is answered at once (HTTP 429 with ``Retry-After``), before the user is looked up and before any
password hash is computed, and no request worker ever sleeps: a flood costs the server one dictionary look-up per
request.  Attempts in flight count as failures until they finish, so a burst of parallel guesses cannot run more
password checks than the limit allows.  With one server process the state is in memory; it holds at most
``max_keys`` keys (the oldest idle ones are dropped first).  With several (``hengqi serve --workers N``) the
processes share it through a small SQLite file that the supervising process makes afresh at each start
(:class:`SharedCounts`): the limits hold for the host as a whole, not per process.

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
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from hengqi.server.errors import LoginThrottledError


@dataclass(slots=True)
class _Count:
    failures: int = 0
    last_failure: float = 0.0
    pending: int = 0


_KEYS_DEFAULT: Final = 50_000


class Attempt:
    """One sign-in attempt let through :meth:`LoginThrottle.begin`; :meth:`finish` must be called exactly once."""

    def __init__(self, throttle: LoginThrottle, keys: tuple[str, str], attempt: str) -> None:
        self._throttle = throttle
        self._keys = keys
        self._attempt = attempt
        self._done = False

    def finish(self, *, success: bool) -> None:
        """Count the attempt: a failure, or a success (which clears the name's failures)."""
        if not self._done:
            self._done = True
            self._throttle._finish(self._keys, success, self._attempt)

    def cancel(self) -> None:
        """The attempt was not decided (the server was too busy, or the client went away): count nothing."""
        if not self._done:
            self._done = True
            self._throttle._finish(self._keys, None, self._attempt)


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
        shared: SharedCounts | None = None,
    ) -> None:
        self._limits = {"name": account_limit, "addr": address_limit}
        self._window_s = window_s
        self._lockout_s = lockout_s
        self._lockout_max_s = lockout_max_s
        self._max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[str, _Count] = {}
        #: the counts of every server process of this host, when there are several (else ``self._counts``)
        self._shared = shared

    @staticmethod
    def _keys(username: str, address: str) -> tuple[str, str]:
        return (f"name:{username.strip().casefold()}", f"addr:{address}")

    def _limit(self, key: str) -> int:
        return self._limits[key.partition(":")[0]]

    def _wait(self, key: str, now: float) -> float:
        """Seconds until ``key`` may try again (0: now)."""
        count = self._counts.get(key)
        if count is not None and count.pending == 0 and now - count.last_failure > self._window_s:
            del self._counts[key]
            return 0.0
        return self._wait_of(key, count, now)

    def _wait_of(self, key: str, count: _Count | None, now: float) -> float:
        """Seconds until ``key``, whose counts are ``count``, may try again (0: now): the policy itself."""
        if count is None or (count.pending == 0 and now - count.last_failure > self._window_s):
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

    def _counted(self, key: str, count: _Count, success: bool | None, now: float) -> None:
        """``count`` after one attempt of ``key`` finished (``None``: cancelled, neither a success nor a failure)."""
        if success:
            if key.startswith("name:"):
                count.failures = 0
        elif success is False:
            if now - count.last_failure > self._window_s:
                count.failures = 0
            count.failures += 1
            count.last_failure = now

    def _waits(self, keys: tuple[str, ...], now: float) -> float:
        if self._shared is not None:
            counts = self._shared.read(keys, now)
            return max(self._wait_of(key, counts.get(key), now) for key in keys)
        return max(self._wait(key, now) for key in keys)

    def retry_after(self, username: str, address: str) -> int | None:
        """Whole seconds to wait before ``username`` may try from ``address``; ``None`` when it may try now."""
        with self._lock:
            wait = self._waits(self._keys(username, address), self._clock())
        return max(1, math.ceil(wait)) if wait > 0 else None

    def address_retry_after(self, address: str) -> int | None:
        """Whole seconds before any name may try from ``address`` (its own limit reached); ``None`` otherwise.
        Used before a sign-in's body is read (:mod:`hengqi.server.login_gate`)."""
        with self._lock:
            wait = self._waits((f"addr:{address}",), self._clock())
        return max(1, math.ceil(wait)) if wait > 0 else None

    def begin(self, username: str, address: str) -> Attempt:
        """Let one attempt through, or raise :class:`LoginThrottledError` (before any password work)."""
        keys = self._keys(username, address)
        attempt = secrets.token_hex(8)
        with self._lock:
            now = self._clock()
            if self._shared is not None:
                wait = self._shared.begin(
                    keys, attempt, lambda counts: self._waits_of(keys, counts, now), now, self._window_s
                )
            else:
                wait = max(self._wait(key, now) for key in keys)
                if wait <= 0:
                    self._make_room()
                    for key in keys:
                        self._counts.setdefault(key, _Count()).pending += 1
            if wait > 0:
                raise LoginThrottledError(max(1, math.ceil(wait)))
        return Attempt(self, keys, attempt)

    def _waits_of(self, keys: tuple[str, ...], counts: dict[str, _Count], now: float) -> float:
        return max(self._wait_of(key, counts.get(key), now) for key in keys)

    def _finish(self, keys: tuple[str, str], success: bool | None, attempt: str) -> None:
        with self._lock:
            now = self._clock()
            if self._shared is not None:
                self._shared.finish(keys, attempt, lambda key, count: self._counted(key, count, success, now), now)
                return
            for key in keys:
                count = self._counts.setdefault(key, _Count())
                count.pending = max(0, count.pending - 1)
                self._counted(key, count, success, now)
                if count.failures == 0 and count.pending == 0:
                    del self._counts[key]

    def failures(self, username: str, address: str) -> tuple[int, int]:
        """The current failure counts of the name and of the address."""
        keys = self._keys(username, address)
        with self._lock:
            if self._shared is not None:
                now = self._clock()
                counts = self._shared.read(keys, now)
                found = [counts.get(key) for key in keys]
                found = [c if c and (c.pending or now - c.last_failure <= self._window_s) else None for c in found]
            else:
                found = [self._counts.get(key) for key in keys]
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


#: The environment variable naming the shared counts' file; set by ``hengqi serve --workers N`` for its workers.
SHARED_FILE_ENV: Final = "HENGQI_SERVE_THROTTLE_FILE"
#: An attempt in flight for longer than this is no longer counted (the process checking it died first).
PENDING_MAX_S: Final = 300.0
#: The shared file is tidied (lapsed counts and forgotten attempts deleted) once every this many attempts.
_TIDY_EVERY: Final = 256


class SharedCounts:
    """The throttle's counts in a SQLite file shared by the server processes of one host.

    Every read and change is one transaction (``BEGIN IMMEDIATE`` for a change: the attempts of all processes
    are decided one after the other, so parallel guesses spread over the processes still cannot exceed the
    limit).  An attempt in flight is a row of ``pending`` until it finishes, so that the attempts of a process
    that dies are no longer counted after :data:`PENDING_MAX_S`.  The file holds counts, not records: it is
    written without waiting for the disk (``synchronous=OFF``; a crash of the host may forget the counts, as a
    restart of a single process forgets its in-memory ones) and made afresh at each start of the server
    (:func:`fresh_shared_file`), so its monotonic clock readings all come from one boot of the host.
    ``scope`` keeps the counts of two throttles apart in one file (sign-in, certificate look-up).
    """

    def __init__(self, path: Path, scope: str, *, max_keys: int = _KEYS_DEFAULT) -> None:
        self.path = path
        self._scope = scope
        self._max_keys = max_keys
        self._attempts = 0
        self._db = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("BEGIN IMMEDIATE")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS counts"
            " (key TEXT PRIMARY KEY, failures INTEGER NOT NULL, last_failure REAL NOT NULL)"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS pending (attempt TEXT NOT NULL, key TEXT NOT NULL, since REAL NOT NULL)"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS pending_key ON pending (key, since)")
        self._db.execute("COMMIT")

    def _run(self, change: bool, work: Callable[[], float | dict[str, _Count] | None]) -> Any:
        self._db.execute("BEGIN IMMEDIATE" if change else "BEGIN")
        try:
            result = work()
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return result

    def _load(self, keys: tuple[str, ...], now: float) -> dict[str, _Count]:
        found: dict[str, _Count] = {}
        for key in keys:
            scoped = self._scope + key
            row = self._db.execute("SELECT failures, last_failure FROM counts WHERE key = ?", (scoped,)).fetchone()
            (pending,) = self._db.execute(
                "SELECT count(*) FROM pending WHERE key = ? AND since > ?", (scoped, now - PENDING_MAX_S)
            ).fetchone()
            if row is not None or pending:
                failures, last_failure = row if row is not None else (0, 0.0)
                found[key] = _Count(failures, min(last_failure, now), pending)  # never a failure in the future
        return found

    def read(self, keys: tuple[str, ...], now: float) -> dict[str, _Count]:
        """The counts of ``keys`` (absent: none), as one consistent reading."""
        return self._run(False, lambda: self._load(keys, now))  # type: ignore[no-any-return]

    def begin(
        self,
        keys: tuple[str, ...],
        attempt: str,
        wait_of: Callable[[dict[str, _Count]], float],
        now: float,
        window_s: float,
    ) -> float:
        """``wait_of`` the counts of ``keys``; when it is 0, ``attempt`` is in flight for each key from now on."""

        def work() -> float:
            wait = wait_of(self._load(keys, now))
            if wait <= 0:
                self._db.executemany(
                    "INSERT INTO pending (attempt, key, since) VALUES (?, ?, ?)",
                    [(attempt, self._scope + key, now) for key in keys],
                )
                self._attempts += 1
                if self._attempts % _TIDY_EVERY == 0:
                    self._tidy(now, window_s)
            return wait

        return self._run(True, work)  # type: ignore[no-any-return]

    def finish(self, keys: tuple[str, ...], attempt: str, counted: Callable[[str, _Count], None], now: float) -> None:
        """``attempt`` is no longer in flight; ``counted`` changes each key's counts (a failure, a success)."""

        def work() -> None:
            self._db.execute("DELETE FROM pending WHERE attempt = ?", (attempt,))
            counts = self._load(keys, now)
            for key in keys:
                count = counts.get(key) or _Count()
                counted(key, count)
                if count.failures == 0:
                    self._db.execute("DELETE FROM counts WHERE key = ?", (self._scope + key,))
                else:
                    self._db.execute(
                        "INSERT INTO counts (key, failures, last_failure) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE"
                        " SET failures = excluded.failures, last_failure = excluded.last_failure",
                        (self._scope + key, count.failures, count.last_failure),
                    )

        self._run(True, work)

    def _tidy(self, now: float, window_s: float) -> None:
        """Forget lapsed counts and forgotten attempts; keep at most ``max_keys`` counts (the oldest go first)."""
        self._db.execute("DELETE FROM pending WHERE since <= ?", (now - PENDING_MAX_S,))
        self._db.execute(
            "DELETE FROM counts WHERE last_failure < ? AND key NOT IN (SELECT key FROM pending)", (now - window_s,)
        )
        (kept,) = self._db.execute("SELECT count(*) FROM counts").fetchone()
        if kept > self._max_keys:
            self._db.execute(
                "DELETE FROM counts WHERE key IN (SELECT key FROM counts ORDER BY last_failure LIMIT ?)",
                (kept - self._max_keys + self._max_keys // 10,),
            )

    def close(self) -> None:
        self._db.close()


def fresh_shared_file(data_dir: Path) -> Path:
    """A new, empty shared counts file for the server processes about to start (readable by the owner only)."""
    folder = data_dir / "run"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "signin-throttle.sqlite3"
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))
    SharedCounts(path, "").close()
    return path


def shared_counts(scope: str) -> SharedCounts | None:
    """The counts shared by this host's server processes (``scope`` in the file named by :data:`SHARED_FILE_ENV`),
    or ``None`` when this process serves alone."""
    name = os.environ.get(SHARED_FILE_ENV)
    return SharedCounts(Path(name), scope) if name else None
